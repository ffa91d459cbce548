# sync
# runner sync、各传输方式（代理会话、ssh、rsync）及 runner watch 同步服务。

## 同步保护
sync-source-missing = 源目录 { $source } 不存在（共享存储未挂载？）
sync-source-empty = 源目录 { $source } 为空，而目标上有 { $remote } 个文件
sync-incomplete-archive = 归档不完整：{ $why }

## ssh 与 rsync
sync-runner-itself = runner 自身
sync-ssh-exited = ssh 异常退出（{ $status }）：{ $stderr }
sync-agent-installed = 已在主机上安装 runner
sync-rsync-cannot-run = 无法运行 rsync：{ $error }
sync-rsync-exited = rsync 异常退出（{ $status }）：{ $stderr }

## 代理会话
sync-rsync-by-rsync = rsync:// 目标由 rsync 推送，不经过代理
sync-cannot-start-transport = 无法启动传输进程：{ $error }
sync-agent-no-mux = 那里的代理 { $agent } 是较旧的 runner，不能在一条连接上服务多个目录（--mux）：{ $said }
sync-agent-unasked = 代理发来了超过 { $limit } 字节未被请求的数据
sync-unexpected-hello = 握手应答异常：{ $answer }
sync-exit-status = 退出码 { $code }
sync-agent-error = 代理：{ $error }
sync-sending = 发送失败：{ $error }
sync-unexpected-data = 代理发来了不该出现的数据
sync-expected-manifest = 应收到文件清单，实际收到 { $got }
sync-progress = 同步 { $target }
sync-agent-stopped = 代理已无应答
sync-unexpected-reply = 意外的应答 { $reply }
sync-agent-refused = 代理拒绝了请求：{ $what }
sync-agent-refused-many = 代理拒绝了 { $n } 个请求，第一个：{ $first }
sync-unexpected-during = 执行 { $command } 期间收到意外消息 { $what }
sync-connection-lost = 执行 { $command } 期间连接断开：{ $error }
sync-transport-said = { $message }；传输进程输出：{ $said }

## runner sync
sync-no-targets = 未配置任何 [[sync]] 目标
sync-no-target-matches = 没有与 { $names } 匹配的 [[sync]] 目标
sync-not-pushed = { $target }：未推送 { $path }：{ $why }

## runner watch（服务日志）
sync-watch-nothing = 没有可监视的内容：既没有 [[sync]] 目标，也没有设置 auto_release = true 的应用
sync-watch-stopped-target = 监视已停止：{ $error }
sync-watch-stopped-release = 自动发布监视已停止：{ $error }
sync-watch-stopped = 已停止
sync-watch-synced = 已同步
sync-watch-held-back = 暂不推送：{ $why }
sync-watch-auto-release = 自动发布
sync-watch-source-missing = 源目录 { $source } 不存在（共享存储未挂载？）：不同步任何文件，也不删除任何文件
sync-watch-target-unavailable = 目标不可用：{ $error }
sync-watch-release-not-started = 发布未启动：{ $error }
sync-watch-watching = 开始监视
sync-watch-rescanning = 监视出错，重新全量扫描：{ $error }
sync-watch-cannot-watch = 无法监视 { $path }：{ $error }
sync-watch-cannot-watch-limit = 无法监视 { $path }：{ $error }；目录树较大时请调大 fs.inotify.max_user_watches（sysctl）
sync-watch-cannot-write-status = 无法写入状态文件：{ $error }
sync-watch-config-empty = 未重新加载配置，继续使用当前配置：新配置中既没有 [[sync]] 行，也没有设置 auto_release 的应用
sync-watch-config-reread = 已重新加载配置
sync-watch-config-failed = 未重新加载配置，继续使用当前配置：{ $error }
sync-agent-not-static = 当前 runner 是 glibc 构建：glibc 比本机旧的主机无法运行它（CentOS 7 为 2.17）。有静态构建时 --install-agent 会发送静态构建：用 `cargo build --release --target x86_64-unknown-linux-musl -p runner` 构建，然后以 { $beside } 为名放在当前 runner 旁边，或在 [fleet] agent_binary 中指定；也可以安装 runner 软件包
sync-agent-wrong-binary = { $path } 不是当前版本的 runner（{ $mine }）：它输出 "{ $said }"；--install-agent 只发送同一版本的静态构建
sync-agent-passed-over = --install-agent 未采用：{ $error }
