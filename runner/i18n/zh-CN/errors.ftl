# runner 报告的错误（error.rs 及各模块旁的错误类型）。
error-config-is-dir = 配置 { $path } 是目录，不是文件
error-config-not-utf8 = 配置 { $path }：不是 UTF-8 文本（从第 { $line } 行第 { $column } 列起）

## error.rs：各命令返回的错误
error-config = { $file }:{ $line }:{ $column }：配置项 `{ $key }`：{ $message }
error-overlap = { $how ->
    [same] { $file }：{ $a }（{ $a_path }）与 { $b }（{ $b_path }）是同一个目录
    [inside] { $file }：{ $a }（{ $a_path }）位于 { $b }（{ $b_path }）之内
   *[contains] { $file }：{ $a }（{ $a_path }）包含了 { $b }（{ $b_path }）
  }
error-missing-dir = { $app }：{ $what } { $path } 不存在
error-config-read = 无法读取配置 { $path }：{ $source }
error-no-config = 找不到配置文件（已尝试 { $tried }）；请用 -c <path> 指定，或设置环境变量 RUNNER_CONFIG
error-unknown-app = 未知的应用 `{ $name }`（已配置的应用：{ $known }）
error-locked = { $app } 已被 pid { $pid } 锁定（{ $user }，自 { $since } 起）；请等它结束，或停止该进程
error-bad-jar = { $app }：暂存的 jar 包 { $path } 不是有效的 zip（{ $reason }）；未做任何改动
error-plan = { $app }：暂存文件 { $path }：{ $reason }；未做任何改动
error-io = { $op } { $path } 失败：{ $source }
error-changed = { $path }：内容为 { $actual }，应为 { $expected }
error-step = { $app }：{ $step }失败：{ $message }
error-interrupted = { $app }：发布 { $release } 被中断；运行 `runner release { $app }` 继续完成，或运行 `runner rollback { $app }` 撤销
error-plugin-load = 插件 `{ $plugin }`（{ $path }）：{ $cause }
error-plugin = 插件 `{ $plugin }` 在 { $hook } 中失败：{ $cause }
error-would-empty = 同步到 { $target }：{ $why }；目标端没有删除任何文件
error-sync = 同步到 { $target }：{ $message }
error-agent = 代理：{ $error }
error-agent-missing = { $target }：那里没有 runner 代理（`{ $agent }`：{ $why }）
error-agent-version = { $target }：那里的 runner 代理使用的是另一版本的协议：{ $message }
error-cancelled = 操作人选择了“否”；未做任何改动
error-prompt = 交互确认：{ $error }
error-internal-start = 无法启动{ $what }：{ $error }

## 发生 I/O 错误时正在做的操作（Error::io）
error-op-create = 创建
error-op-open = 打开
error-op-read = 读取
error-op-write = 写入
error-op-rename = 重命名
error-op-remove = 删除
error-op-chmod = 修改权限
error-op-chown = 修改属主
error-op-set-mtime = 设置修改时间
error-op-fsync = 落盘（fsync）
error-op-stat = 读取文件属性
error-op-walk = 遍历
error-op-encode = 编码
error-op-parse = 解析
error-op-parse-journal = 解析发布日志（journal）
error-op-lock = 加锁
error-op-locate = 定位

## runner 可能无法启动的内部组件（Error::internal）
error-part-signal-handler = 信号处理器
error-part-signal-thread = 信号处理线程
error-part-own-path = runner（取不到自身路径）

## 操作人可以怎么处理（Error::help）
error-help-config = 请在配置中修正该项；可用 `runner config check` 检查
error-help-config-read = 请检查路径，以及当前用户是否有读取权限
error-help-config-is-dir = 请指定其中的 runner.toml：-c <dir>/runner.toml
error-help-config-not-utf8 = 请另存为 UTF-8 编码（GBK 文件可用 `iconv -f GBK -t UTF-8 runner.toml` 转换）
error-help-overlap = 请给它们各自独立的目录：发布会读取暂存目录、写入部署目录，且绝不能写进自己的备份或状态目录
error-help-preflight = 请在配置中修正该项；未做任何改动（`runner config check`）
error-help-unknown-app = 应用名就是配置中的 [apps.<name>] 表名
error-help-bad-jar = jar 包还在上传时就会这样：等上传完成后再发布
error-help-agent = 请在那台主机上安装这一版本的 runner（路径由该行的 `agent` 或 [fleet] 的 `agent` 指定），或让批量发布自动拷贝过去：--install-agent
error-help-would-empty = 请挂载或补齐源目录；如果确实要清空目标端，请加 --allow-delete-all
error-help-plugin-load = `runner plugin check <wasm>` 可查看该组件声明了什么
error-help-internal = runner 无法启动自身的某个组件；这台机器可能线程或内存不足（如果不是，请用 RUNNER_LOG=debug 运行并报告此问题）

## address.rs：无法解析的 ssh 地址或 [[sync]] 目标
address-no-scheme = 缺少协议前缀（如 ssh://）
address-relative-file = file:// 需要绝对路径（file:///dir）
address-no-path = 缺少路径
address-no-host-or-path = 需要主机和路径
address-bad-port = 端口 `{ $port }` 无效
address-unknown-scheme = 未知的协议 `{ $scheme }`
address-empty-user = 用户名为空
address-bad-host = 格式应为 [user@]host[:port]

## verify.rs：应用重启后没能证明自己已启动，以及证明它已启动的依据
verify-interrupted = 等待应用启动时被 { $signal } 中止
verify-fail-line = 日志中出现 `{ $line }`
verify-not-ready = { $timeout } 内 { $path } 中没有匹配 `{ $pattern }` 的行
verify-health-status = 健康检查 { $url } 返回 { $status }
verify-health-unreachable = 健康检查 { $url } 无响应：{ $error }
verify-ready-after = { $secs } 秒后就绪
verify-health = 健康检查 { $status }
verify-restarted = 重启成功（没有可检查的日志或健康检查地址）

## restart.rs：应用的重启命令没有正常完成
restart-spawn = 无法运行 `{ $command }`：{ $error }
restart-exited = `{ $command }` 异常退出（{ $status }）{ $tail }
restart-wait = 等待 `{ $command }` 时出错：{ $error }
restart-timed-out = `{ $command }` 未在时限内完成，已被强制结束{ $tail }
# 后面逐行跟着命令最后输出的几行。
restart-output = ；输出（{ $path }）：

## jar.rs：暂存的 jar 包不是完整的 zip
jar-truncated = 条目 { $entry } 超出了文件末尾（文件不完整）
jar-empty = 没有任何条目
jar-changed = 读取期间文件发生了变化（仍在写入）

## lock.rs、interrupt.rs
lock-cannot-clear = 无法清除锁的持有者信息：{ $error }
interrupt-stopping = { $signal }：将在下一个安全点停止 { $app }（再发一次信号则立即停止）
interrupt-stopped = { $signal }：已立即停止；{ $app } 本次发布的 journal 仍保留：`runner release { $app }` 继续完成，`runner rollback { $app }` 撤销
interrupt-a-signal = 信号

## backup.rs、install.rs、inventory.rs
backup-changed = { $path } 在生成发布计划后又被改动；未安装任何文件，请重新生成计划
backup-cannot-prune = 无法清理旧备份：{ $error }
install-neither = 既不是预先写好的临时文件，也不是新内容
inventory-not-utf8 = 跳过文件名不是 UTF-8 的文件
inventory-cannot-save-cache = 无法保存哈希缓存：{ $error }

## cmd.rs：作用于多个应用的命令
cmd-lists-hosts = { $app } 配置了主机（{ $hosts }）：请在每台主机上加 --local 运行（只有 `runner release` 会从这里逐台发布到各主机）
cmd-not-started = 未开始
cmd-nothing-staged = 没有待发布的文件（{ $path } 不存在）
cmd-man-page = 无法输出 man 手册：{ $error }

## report.rs：标签、表格与汇总
report-help = 提示：
report-warning = 警告：
report-invalid = 无效
report-col-source = 源目录
report-col-sent = 已发送
report-col-bytes = 字节数
report-col-wire = 实际传输
report-col-deleted = 已删除
report-col-unchanged = 未变
report-col-skipped = 已跳过
report-targets = 共 { $n } 个目标
report-col-plugin = 插件
report-col-version = 版本
report-col-hooks = 钩子
report-col-granted = 已授权
report-col-not-granted = 需要但未授权
report-nothing = 无
report-fleet = 批量发布
report-fleet-done = { $app } { $id }：{ $outcome }，用时 { $time }
report-fleet-count = { $outcome } { $n } 台
report-list-sep = ，
