# runner 报告的错误（error.rs 及各模块旁的错误类型）。
error-config-is-dir = 配置 { $path } 是目录，不是文件
error-config-not-utf8 = 配置 { $path }：不是 UTF-8 文本（从第 { $line } 行第 { $column } 列起）
