# `runner --help` 的中文。英文在 src/cli.rs 的文档注释里（clap、man 页、补全脚本都读那里）。
# id：命令路径（空格换成 -）加 `-about`（命令说明）、`-long`（长说明）、`-examples`（示例），
# 或 `--<参数 id>`（参数说明，`-long` 为长说明）。少了或多了哪个，cli.rs 的测试会列出来。

usage = 用法：
heading-arguments = 参数
heading-options = 选项
heading-commands = 命令
heading-global-options = 全局选项
heading-fleet-options = 集群选项（配置了 `hosts` 的应用，在中控机上）
heading-on-a-fleet-host = 在集群主机上（中控机在各主机上执行的部分）
help-about = 显示帮助，或显示指定子命令的帮助

runner-about = 把 Java 服务发布到普通 Linux 主机：计划、备份、安装、重启、校验、回滚
runner--config = 配置文件（默认依次找 $RUNNER_CONFIG、./runner.toml、/etc/runner/runner.toml）
runner--verbose = 输出更多（-vv：trace）
runner--verbose-long =
    输出更多（-vv：trace）

    -v 在计划中列出未变的文件、在 `status` 中列出有偏差的文件，并以 debug 级别记录日志；-vv 为 trace 级别。
runner--quiet = 只输出错误和警告
runner--json = 在标准输出打印 JSON 报告（{"{"}"schema": 1, ...{"}"}；见 docs/json.md）
runner--color = 彩色输出
runner--lang = 提示信息的语言：zh-CN 或 en（默认取自 LC_ALL / LC_MESSAGES / LANG）
runner--help = 显示帮助（--help 显示更多）
runner--help-long = 显示帮助（-h 显示摘要）
runner--version = 显示版本

runner-plan-about = 查看发布会改动什么：新增 / 修改 / 删除 / 未变的文件。不做任何改动
runner-plan--apps = 要查看的应用（默认：所有已配置的应用）
runner-plan--entries = 对每个修改过的 jar，列出新增、删除或改动的条目（类、资源）
runner-plan-examples =
    示例：
      runner plan                    # 所有应用
      runner plan pdms --entries     # 以及每个修改过的 jar 中改了哪些类
      runner -v plan pdms            # 连未变的文件也列出

runner-release-about = 发布应用：加锁、计划、备份、安装、重启、校验（失败则回滚）
runner-release--apps = 要发布的应用（在终端中不指定则给出选择列表）
runner-release--all = 发布所有有待发布变更的应用
runner-release--entries = 对每个修改过的 jar，列出改动的条目
runner-release--jobs = 同时发布的应用数，每个应用在自己的 runner 进程中（各自的锁、日志、记录）
runner-release--dry_run = 只打印计划，不执行
runner-release--no_restart = 只安装，不重启（也不校验）
runner-release--no_rollback = 校验失败时保留新文件，不回滚
runner-release--yes = 不询问确认
runner-release--local = 即使应用配置了 `hosts` 也在本机发布（集群发布在每台主机上执行的就是这个）
runner-release--events = 以 JSON 行在标准输出打印进度（步骤、启动日志、结果）：集群发布从每台主机读取的内容
runner-release--batch = 每批主机数：N、N% 或递增序列，如 1,25%,100%［默认：1］
runner-release--batch-long =
    每批主机数：N、N% 或递增序列，如 1,25%,100%［默认：1］

    序列的最后一步会重复。上一批的每台主机都校验通过（或失败）后，下一批才开始。
runner-release--max_fail = 容许失败的主机数，超过后不再启动新主机［默认：0］
runner-release--pause = 批次之间等待的时间［默认：0s］
runner-release--rollback_on_failure = 滚动发布因失败停止时，回滚已发布的主机
runner-release--install_agent = 把当前 runner 复制到没有它（或版本不同）的主机上
runner-release--install_agent-long =
    把当前 runner 复制到没有它（或版本不同）的主机上

    通过 ssh 复制到主机的 ~/.runner/bin/runner-<version>：先写临时文件，在主机上校验 sha256，再改名。
runner-release-examples =
    示例：
      runner release pdms            # 计划、确认、备份、安装、重启、校验
      runner release                 # 在终端中：从有变更的应用里选择
      runner release --all --yes     # 所有有暂存内容的应用，不询问
      runner release --all -j 4      # 同时发布四个应用，最后给出汇总表
      runner release pdms --dry-run  # 只看计划和插件的演练结果；不做任何改动
      runner release pdms --batch 1,25%,100% --rollback-on-failure   # 配置了 hosts 的应用

runner-common-about = 把暂存的公共库安装到每个已有同名 jar 的应用中
runner-common--apps = 要更新的应用（默认：所有包含其中某个库的应用）
runner-common--dry_run = { runner-release--dry_run }
runner-common--no_restart = { runner-release--no_restart }
runner-common--no_rollback = { runner-release--no_rollback }
runner-common--yes = { runner-release--yes }
runner-common--local = { runner-release--local }
runner-common--events = { runner-release--events }
runner-common-examples =
    示例：
      runner common                  # 把暂存的公共库装进所有用到它们的应用
      runner common pdms --no-restart

runner-rollback-about = 用备份恢复上一次（或指定的）发布之前的文件，然后重启、校验
runner-rollback--to = 要撤销的发布（默认：最近一次尚未回滚的成功发布）
runner-rollback--dry_run = { runner-release--dry_run }
runner-rollback--no_restart = { runner-release--no_restart }
runner-rollback--no_rollback = { runner-release--no_rollback }
runner-rollback--yes = { runner-release--yes }
runner-rollback--local = { runner-release--local }
runner-rollback--events = { runner-release--events }
runner-rollback-examples =
    示例：
      runner rollback pdms           # 撤销上一次发布（或被中断的发布）
      runner rollback pdms --to 20261127T0542-pdms-3f2a   # 回到该次发布刚完成后的状态

runner-restart-about = 重启应用并校验，使用与发布中重启、校验相同的钩子（摘流插件会先摘流）；记入历史。配置了 `hosts` 的应用：滚动重启
runner-restart--apps = 要重启的应用（在终端中不指定则给出选择列表）
runner-restart--jobs = 同时重启的应用数，每个应用在自己的 runner 进程中
runner-restart--dry_run = { runner-release--dry_run }
runner-restart--no_restart = { runner-release--no_restart }
runner-restart--no_rollback = { runner-release--no_rollback }
runner-restart--yes = { runner-release--yes }
runner-restart--local = { runner-release--local }
runner-restart--events = { runner-release--events }
runner-restart--batch = { runner-release--batch }
runner-restart--batch-long = { runner-release--batch-long }
runner-restart--max_fail = { runner-release--max_fail }
runner-restart--pause = { runner-release--pause }
runner-restart--rollback_on_failure = { runner-release--rollback_on_failure }
runner-restart--install_agent = { runner-release--install_agent }
runner-restart--install_agent-long = { runner-release--install_agent-long }
runner-restart-examples =
    示例：
      runner restart pdms --yes      # 重启、校验；配置了 nginx-drain 时先摘流
      runner restart                 # 在终端中：选择应用
      runner restart pdms --batch 25%   # 配置了 hosts 的应用：滚动重启

runner-history-about = 发布历史：编号、时间、用户、文件数、结果、耗时
runner-history--limit = 最多显示多少条（最新的）
runner-history-examples =
    示例：
      runner history                 # 每个应用最近 20 条记录
      runner history pdms --limit 5
      runner --json history pdms | jq '.records[-1].outcome'

runner-status-about = 什么部署在哪里、此后的偏差（手工改过的文件；-v 列出）、等待发布的暂存变更、正在进行或被中断的发布，以及健康状况。有应用需要关注时退出码为 1
runner-status--apps = 要显示的应用（默认：所有已配置的应用）
runner-status--local = 即使应用配置了 `hosts` 也只看本机（中控机向每台主机询问的就是这个）
runner-status--sync = 只看同步服务：每个目标的上次同步、待同步、失败起始时间、最近错误
runner-status-examples =
    示例：
      runner status                  # 所有应用：已部署版本、偏差、待发布、健康
      runner -v status pdms          # 列出有偏差的文件
      runner --json status | jq '.apps[] | select(.health.up == false) | .app'

runner-sync-about = 把暂存目录推送到各 [[sync]] 目标，执行一次
runner-sync--targets = 要同步的目标（按配置中的写法）或源目录（默认：全部）
runner-sync--jobs = 同时同步的目标数（每个目标一个代理会话）
runner-sync--allow_delete_all = 允许同步清空源目录缺失或为空的目标（否则拒绝：未挂载的共享目录看起来正是这样）
runner-sync-examples =
    示例：
      runner sync                    # 每个 [[sync]] 行执行一次
      runner sync rsync://10.0.0.5/pdms -j 1

runner-watch-about = 同步服务：监视暂存目录，文件写完后保持每个 [[sync]] 目标同步
runner-watch--settle = 写入后没有看到关闭的文件，在这么长时间没有新写入后推送
runner-watch--reconcile_every = 全量核对的周期（修复偏差）
runner-watch--allow_delete_all = 允许同步清空源目录缺失或为空的目标
runner-watch--log_format = 日志行格式：文本或 JSON（每行一个对象，供 journald / 日志采集使用）
runner-watch-examples =
    示例：
      runner watch                   # 服务方式运行（见 examples/systemd/runner-watch.service）
      runner watch --settle 5s --log-format json

runner-agent-about = 同步目标的远端：在标准输入/输出上使用同步协议
runner-agent--stdio = 使用标准输入/输出（唯一的传输方式）
runner-agent--root = 允许写入的目录；目录之外的任何东西都不会动
runner-agent--app = 提供本机配置中该应用的暂存目录，并为中控机的集群发布执行该应用的发布
runner-agent--mux = 同时服务多个目录，每个目录由客户端在同一条流上打开（runner 发往同一主机的各条 ssh:// 同步共用它）

runner-config-about = 配置相关命令
runner-config-check-about = 解析并校验配置；打印解析后的结果

runner-plugin-about = 插件相关命令
runner-plugin-list-about = 列出已配置的插件、它们的钩子和授权，以及需要但未授予的能力
runner-plugin-check-about = 加载组件，按 WIT world 检查，显示它声明的内容
runner-plugin-check--wasm = .wasm 组件
runner-plugin-wit-about = 写出本 runner 支持的 WIT 包，让插件严格按它们构建
runner-plugin-wit--wit_version = 只写这个版本，其 plugin.wit 直接写入 DIR（默认：每个版本各写入 DIR/<版本>/）
runner-plugin-wit--out = 写到哪个目录
runner-plugin-wit-examples =
    示例：
      runner plugin wit -o wit                    # wit/0.1.0/plugin.wit、wit/0.2.0/plugin.wit
      runner plugin wit --version 0.2.0 -o wit    # wit/plugin.wit，供 wit-bindgen 的 `path` 使用
runner-plugin-call-about = 在发布所用的同一沙箱中调用插件的一个钩子（不进行发布）：显示决定、日志、允许或拒绝的宿主调用、输出、耗时和内存峰值。proceed/skip 退出码 0，abort 为 1，调用失败为 2
runner-plugin-call--wasm = .wasm 组件
runner-plugin-call--hook = 要调用的钩子，例如 before-restart
runner-plugin-call--app = 事件中的应用名
runner-plugin-call--set = 插件配置的一项，同 `[plugin.config]`（可重复）
runner-plugin-call--event = 从 JSON 文件读取事件：事件字段，或 `runner history --json` 中的一次发布
runner-plugin-call--allow_exec = 允许 `host.exec` 执行该程序（allow.exec）
runner-plugin-call--allow_dir = 只读授权该目录（allow.dirs）
runner-plugin-call--allow_rw = 读写授权该目录（allow.rw）
runner-plugin-call--allow_http = 允许 `host.http` 访问该主机或 主机:端口（allow.http）
runner-plugin-call--timeout = 钩子超时
runner-plugin-call--memory = 插件内存上限
runner-plugin-call-examples =
    示例：
      runner plugin call target/plugins/hostile.wasm before-restart --set mode=abort
      runner plugin call drain.wasm before-host --allow-rw /etc/nginx/conf.d --allow-exec /usr/sbin/nginx
      runner --json history pdms --limit 1 > last.json && runner plugin call notify.wasm release-end --event last.json
runner-plugin-new-about = 在 DIR/NAME/ 下生成一个独立的插件项目：所依据的 WIT 包、源码（在其钩子上记一行日志并继续）、build.sh 和 README
runner-plugin-new--name = 插件名：小写字母、数字和 `-`；目录和 .wasm 都用它命名
runner-plugin-new--language = 插件所用的语言（`--lang` 是全局选项，指 runner 消息的语言）
runner-plugin-new--hooks = 它请求的钩子，逗号分隔（默认：release-start,release-end）
runner-plugin-new--wit_version = 所依据的 WIT 版本（默认：本 runner 支持的最新版本）
runner-plugin-new--dir = 在哪个目录下创建 NAME/
runner-plugin-new-examples =
    示例：
      runner plugin new deploy-notice --language rust     # ./deploy-notice/：Cargo.toml、src/lib.rs、wit/、build.sh
      runner plugin new gate --language python --hooks release-start,before-install
      runner plugin new notify --language js --wit 0.1.0 --dir ~/plugins
      runner plugin new audit --language c                # plugin.c；build.sh 生成它的绑定

runner-fleet-about = 集群相关命令（在中控机上）
runner-fleet-restore-about = 让被滚动发布摘流的主机恢复流量：为它执行该应用上次集群滚动的 after-host 钩子（nginx-drain 会恢复它的 server）
runner-fleet-restore--host = 主机，按应用 `hosts` 中的写法

runner-completions-about = 打印 shell 补全脚本：`runner completions bash > /etc/bash_completion.d/runner`
runner-completions-examples =
    示例：
      runner completions bash > /etc/bash_completion.d/runner
      runner completions zsh > "${"{"}fpath[1]{"}"}/_runner"

runner-man-about = 打印 runner 的 man 页（roff）：`runner man > /usr/local/share/man/man1/runner.1`

runner-init-about = 根据本机现状生成带注释的 runner.toml：部署根目录下的应用、它们的重启方式、日志和健康检查，以及旧同步脚本中的 [[sync]] 行
runner-init--out = 写到哪里
runner-init--force = FILE 已存在时覆盖
runner-init--deploy_root = 应用运行的目录：其下每个含 jar 的目录成为一个应用
runner-init--staging = 新版本暂存的目录
runner-init--from_script = 要导入为 [[sync]] 行的旧 `inotifywait | rsync` 循环脚本
runner-init-examples =
    示例：
      runner init                                   # 根据 /opt/platform 生成 ./runner.toml
      runner init -o /etc/runner/runner.toml --from-script /home/ops/sync/*.sh
      runner init --deploy-root /data/apps --staging /data/update --force
