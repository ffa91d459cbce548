# The errors runner reports (error.rs and the error types beside their modules).
error-config-is-dir = config { $path } is a directory, not a file
error-config-not-utf8 = config { $path }: not UTF-8 text (from line { $line }, column { $column })
