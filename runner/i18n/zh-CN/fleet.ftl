# 集群：按主机滚动发布（fleet.rs、cmd/fleet.rs），各主机上的代理（agent.rs、agent/protocol.rs、
# cmd/agent.rs），以及 `runner status`（cmd/status.rs）。每个 id 在 ../en/fleet.ftl 中也有。

## --batch
fleet-batch-bad-percentage = 百分比 `{ $spec }` 无效
fleet-batch-out-of-range = `{ $spec }` 不在 0-100% 范围内
fleet-batch-bad-size = 批次大小 `{ $spec }` 无效
fleet-batch-empty = 批次 `{ $spec }` 为空

## 滚动发布
fleet-lock-taken-over = { $app }：接管了 pid { $pid }（{ $user }）留下的集群锁，该进程已不在运行
fleet-title-release = 集群发布
fleet-title-restart = 集群重启
fleet-announce = { $title } { $app }：共 { $n } 台主机，每批台数 { $sizes }（{ $id }）
fleet-confirm-release = 在 { $n } 台主机（{ $hosts }）上发布 { $app }？
fleet-confirm-restart = 在 { $n } 台主机（{ $hosts }）上重启 { $app }？
fleet-host-asking = 查询中
fleet-not-released = 未发布：{ $reason }
fleet-batch-failed = { $n } 台主机中 { $failed } 台失败：{ $hosts }

## 某台主机发布失败的原因
fleet-host-connect = 无法连接 { $to }：{ $error }
fleet-host-no-agent = { $error }（该主机上是否已以 `{ $agent }` 安装 runner { $version }？加 --install-agent 可将本机的 runner 复制过去）
fleet-host-install = { $error }；在该主机上安装 runner 也失败了：{ $install }
fleet-host-sync = 同步失败：{ $error }
fleet-host-lost = { $error }（该主机上的发布已记入日志：在该主机上执行 `runner history { $app }` 可查看停在哪一步）
fleet-host-exited = runner { $command } 退出，退出码 { $code }
fleet-host-log-ended = 日志末尾：{ $log }
fleet-log-after-rollback = — 回滚之后 —

## runner fleet restore
fleet-restore-not-a-host = { $host } 不是 { $app } 的主机（{ $hosts }）
fleet-restore-no-roll = 历史记录中没有 { $app } 在 { $host } 上的集群发布
fleet-restore-failed = { $host } 未恢复：{ $reason }
fleet-restored = { $app }  { $host }：已执行 { $id } 的 after-host 钩子（已恢复流量）

## runner status，集群中的主机
fleet-status-no-status = 该主机的 runner 没有返回状态

## 代理（发给客户端的内容一律为英文）
fleet-agent-needs-root = 代理需要 --root 或 --app
fleet-agent-manifest = 生成文件清单失败：{ $error }
fleet-agent-create-root = 无法创建根目录 { $path }：{ $error }
fleet-agent-root = 根目录 { $path }：{ $error }
fleet-agent-client = 写入客户端失败：{ $error }
fleet-agent-version = 本代理不支持协议版本 { $version }（runner { $runner }）：本代理为 runner { $mine }，协议版本 { $protocol }
fleet-agent-no-hello = 应先收到 hello，实际收到 { $got }
fleet-agent-bad-frame = 无效的帧：{ $error }
fleet-agent-too-much-data = { $path }：数据超出声明的 { $size } 字节
fleet-agent-not-data = 应为文件数据，实际收到 { $got }
fleet-agent-unexpected = 意外的消息 { $got }
fleet-agent-wait = 等待发布进程结束失败：{ $error }
fleet-agent-not-relative = 不是相对路径
fleet-agent-component = 路径中不允许出现 `{ $component }`
fleet-agent-reserved = 保留名称
fleet-agent-through-symlink = { $path } 不是目录（可能是符号链接？）
fleet-agent-not-a-dir = { $path } 不是目录
fleet-agent-is-a-dir = 是目录
fleet-agent-outside-root = 超出根目录
fleet-agent-mkdir = 创建目录 { $path } 失败：{ $error }
fleet-agent-create = 创建 { $path } 失败：{ $error }
fleet-agent-write = 写入失败：{ $error }
fleet-agent-mismatch = 收到 { $got } 字节（sha256 { $sha256 }），与声明的 { $size } 字节（{ $want }）不符
fleet-agent-fsync = fsync { $path } 失败：{ $error }
fleet-agent-rename = 重命名为 { $path } 失败：{ $error }
fleet-agent-runs-nothing = 此代理只提供目录同步，不执行任何命令
fleet-agent-no-runner = 找不到 runner 自身的可执行文件：{ $error }
fleet-agent-spawn = 无法启动 runner { $command }：{ $error }

## 同步协议
fleet-proto-closed = 连接已关闭
fleet-proto-too-large = 帧大小 { $size } 字节，超过上限 { $limit }
fleet-proto-empty = 空帧
fleet-proto-kind = 未知的帧类型 { $kind }
fleet-proto-malformed = 消息格式错误：{ $error }
fleet-proto-frame-too-large = 帧过大（{ $size } 字节）
fleet-agent-delta = 增量无法应用到此处的副本：{ $error }
