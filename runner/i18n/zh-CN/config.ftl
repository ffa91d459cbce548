# config：runner.toml 的校验（config.rs、config/overlap.rs）、`runner config check`、
# 发布前检查（preflight.rs）和 `runner init`（init.rs、cmd/init.rs）。

## 配置校验：`文件:行:列: key `…`:` 之后的说明
config-invalid-regex = 无效的正则表达式：{ $error }
config-invalid-duration = 无效的时长 `{ $value }`（{ $error }）；请写成 "120s" 这样的形式
config-invalid-size = 无效的大小 `{ $value }`；请写成 "64MiB" 这样的形式
config-keep-releases-zero = 至少为 1（回滚要用到最近一次的备份）
config-app-name = 应用名只能由字母、数字、`.`、`_`、`-` 组成，且 `common` 是保留名
config-restart-and-stop-start = `restart` 与 `stop` + `start` 只能二选一，不能同时设置
config-stop-start-together = `stop` 和 `start` 必须同时设置
config-restart-empty = 重启命令至少要写明要运行的程序
config-health-not-http = `{ $url }` 不是 http:// 地址
config-bad-glob = 无效的 glob 模式 `{ $glob }`：{ $error }
config-bad-globs = 无效的 glob 模式：{ $error }
# 一个值及其问题（无法解析的地址）。
config-value-why = `{ $value }`：{ $why }
config-sync-target-scheme = `{ $target }` 不是 file://、ssh:// 或 rsync:// 地址
config-password-file-rsync-only = 只有 rsync:// 目标才能配置密码文件
config-unknown-hook = 未知的钩子 `{ $hook }`（可用的有：{ $known }）
config-on-error = `{ $value }` 无效，只能是 `abort` 或 `warn`
# 语法错误所在行没有 key 时给出的名字。
config-key-document = (整个文件)
# TOML 解析器自己的报错，原样给出。
config-toml-message = { $message }

## 目录重叠：“<key>（<路径>）就是 / 位于 / 包含 <key>（<路径>）”

## runner config check
config-check-valid = { $path } 有效；以下是 runner 解析后的完整配置：

## 发布前检查，在改动任何东西之前
preflight-log-dir = 日志所在目录 { $dir } 不存在：runner 会空等 { $timeout }，等一个根本不可能出现的日志
preflight-health-url = `{ $url }` 不是合法的 URL：{ $error }
# “<应用>：部署目录 <路径> 不存在”
preflight-deploy-dir = 部署目录
preflight-deploy-dir-help = 发布不会创建部署目录：请检查 `deploy_root`（或该应用的 `deploy`）是否写错
# “<应用>：暂存目录 <路径> 不存在”
preflight-staging-dir = 暂存目录
preflight-staging-dir-help = 把新的 jar 包放到这个目录，或检查 `staging`（或该应用的 `staging`）是否写错
preflight-mirror-empty = 设置了 mirror = true，但暂存目录 { $dir } 是空的：这样会删除所有已部署的文件
preflight-symlink = { $path } 经过符号链接 { $link } → { $to }；runner 不会透过部署目录里的符号链接写入，也不会覆盖它（备份和回滚都会漏掉链接背后的内容）：请把它改成真实的目录或文件，或者把这个 jar 包放到它真正所属的应用下
preflight-not-executable = `{ $program }` 在本机不是可执行文件（PATH 中也找不到）

## runner init 的提示
init-exists = { $path } 已存在：runner init 不会覆盖它（加 --force，或用 -o 指定别的文件）
init-check-failed = runner init 生成的配置没有通过它自己的检查（{ $error }）；没有写入任何文件
init-wrote = 已写入 { $path }：{ $apps } 个应用，{ $syncs } 条同步规则；请核对标有 `推测` 的行，然后运行 `runner -c { $path } config check`
init-not-imported = 未导入：{ $what }

## runner init 生成的 runner.toml 里的注释（每行前加 `# `）
init-header =
    本 runner.toml 由 `runner init` 于 { $time } 在 { $host } 上生成。
    读取自 { $from }。标有 `推测` 的行都是 runner 对本机情况的推断，请逐一核对；
    然后运行 `runner config check`，发布前先运行 `runner plan`。
init-from-scripts = { $root } 及 { $scripts }
init-comment-staging = <staging>/<app>/ 放该应用的新 jar 包；<staging>/common/ 放公共库
init-comment-backup-root = 每次发布一个目录：同一天发布两次，两份都会保留
init-no-apps = { $root } 下没有包含 jar 包的应用目录。应用的配置示例：
init-restart-not-found = 未找到：既没有 service_local.sh，也没有 { $app }.service；不配置的话，文件会照常安装，但应用不会重启
# 跟在 runner 推测出的值后面。
init-guessed = 推测：{ $why }
init-not-imported-header = 未导入（请阅读以下内容，手动添加 [[sync]] 规则）：

## runner init：为什么这样推测
init-why-service-local = 存在 { $path }（旧脚本的重启方式）
init-why-systemd = 存在 systemd 单元 { $path }
init-why-newest-log = logs/ 下最新的 *.log
init-why-spring = { $file } 中的 { $key }
# 脚本中的位置：“<脚本> 第 <n> 行”
init-where = { $path } 第 { $line } 行
init-why-script = 来自 { $at }{ $note }
init-note-no-slash = ；循环执行的 `rsync { $src }` 源路径末尾没有斜杠，所以文件实际同步到了对端的 { $base }/ 下
init-note-password-file = ；它的密码文件 `{ $file }` 是在启动循环的地方设置的：请补上 password_file
init-why-csv-row = 来自参数行 "{ $dir },{ $host },{ $module },{ $user }" 以及 { $at } 处的 rsync 命令；循环执行的 `rsync { $dir } …::{ $module }` 源路径末尾没有斜杠，所以文件同步到了 { $module }/{ $base } 下{ $note }
init-unread-target = { $at }：无法识别目标 `{ $target }`
init-unread-variables = { $at }：`rsync … { $src } { $dest }` 用到了在别处设置的变量
init-unread-not-rsync = { $at }：不是带源和目标的 rsync 命令
