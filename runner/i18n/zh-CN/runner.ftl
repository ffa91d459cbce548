# runner 的提示信息，简体中文。每个 id 在 ../en/runner.ftl 中也有（有测试检查）。
# 用词：发布、回滚、备份、重启、校验、摘流/恢复流量，按运维同事的习惯。

## 结果与类型（JSON 中仍为英文）
outcome-success = 成功
outcome-rolled-back = 已回滚
outcome-rollback-failed = 回滚失败
outcome-failed = 失败
outcome-undone = 已撤销
outcome-no-change = 无变更
outcome-dry-run = 演练
outcome-cancelled = 已取消
outcome-interrupted = 已中断
kind-release = 发布
kind-common = 公共库
kind-rollback = 回滚
kind-restart = 重启
kind-rollback-to = 回滚到 { $id } 之后
kind-rollback-of = 回滚 { $id }
outcome-resumed = { $outcome }（续做）

## 发布步骤
step-backup = 备份
step-install = 安装
step-restart = 重启
step-verify = 校验
step-restore = 恢复

## 发布结束
done-released = 发布成功
done-rolled-back = 回滚完成
done-common = 公共库已安装
done-restarted = 重启完成
done-undone = 已撤销

## 确认
confirm-release = 将 { $n } 个文件发布到 { $app }？
confirm-restart = 重启 { $app }？

## 发布计划
plan-header = 新增 { $added }，修改 { $modified }，删除 { $removed }，未变 { $unchanged }

## 表头
col-app = 应用
col-outcome = 结果
col-release = 发布号
col-error = 错误
col-id = 发布号
col-time = 时间
col-user = 操作人
col-kind = 类型
col-files = 文件数
col-duration = 耗时
col-host = 主机
col-deployed = 当前版本
col-at = 发布时间
col-by = 操作人
col-drift = 手工改动
col-pending = 待发布
col-state = 状态
col-health = 健康检查
col-target = 同步目标
col-last-synced = 上次同步
col-failing-since = 失败开始于

## runner status
status-drift-unknown = 未知
status-drift-none = 无
status-drift-files = { $n } 个文件
status-releasing = 发布中（pid { $pid }，{ $user }）
status-interrupted = 已中断
status-up = 正常
status-up-build = 正常（{ $build }）
status-down = 异常：{ $why }
status-hosts-up = { $n } 台主机中 { $up } 台正常
status-no-status = 无状态
status-on-hosts = { $app } 各主机：
status-note-last = { $app }：最近一次发布 { $id }（{ $at }）结果：{ $outcome }
status-note-interrupted = { $app }：发布 { $id } 被中断（{ $user }，{ $since }）：`runner release { $app }` 继续完成，`runner rollback { $app }` 撤销
status-note-drift = { $app }：有 { $n } 个文件与 runner 上次发布后的不一致（`runner status -v { $app }` 列出）
status-service = 同步服务（runner watch）：pid { $pid }，自 { $since } 起运行，最近变化 { $updated }
status-service-off = 同步服务（runner watch）未运行
watch-ok = 正常
watch-pending = 等待文件稳定
watch-failing = 失败重试中
watch-waiting = 等待源目录
watch-starting = 启动中

## 发布进行中
release-resuming = 继续被中断的发布 { $id }（已到：{ $phase }）
announce = { $kind } { $id }（{ $n } 个文件）
announce-restart = 重启 { $id }
rolling-back-after = 正在回滚到上一个版本，原因：
ignored-rollback-goes-on = { $reason }（已忽略：回滚继续进行）
ignored-rollback-done = { $reason }（已忽略：回滚已完成）
ignored-release-ended = { $reason }（已忽略：发布已结束）
confirm-rollback = 将 { $app } 回滚到 { $id } 之前？
confirm-rollback-to = 将 { $app } 恢复到 { $id } 刚发布后的状态？
history-empty = 还没有发布记录
took = 用时 { $time }
rolling-back = 回滚 { $id }
col-path = 路径
col-size = 大小
action-added = 新增
action-upgraded = 升级
action-modified = 修改
action-removed = 删除
action-unchanged = 未变
entries-more = … 还有 { $n } 项（-v 查看）
entries-same = （条目相同，仅元数据不同）

## 批量发布，每台主机
host-verified = 校验通过
host-skipped = 已跳过
host-waiting = 等待中
host-connecting = 连接中
host-draining = 摘流中
host-syncing = 同步中
host-releasing = 发布中
host-backing-up = 备份中
host-installing = 安装中
host-restarting = 重启中
host-verifying = 校验中
host-rolling-back = 回滚中
host-restoring = 恢复流量
