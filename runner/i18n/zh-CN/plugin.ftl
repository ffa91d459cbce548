# 插件：WASM 插件的加载、调用与检查（src/plugin/、src/cmd/plugin.rs）。

## 插件加载或调用失败的原因（plugin/error.rs）
plugin-error-engine = 无法启动 wasm 引擎：{ $error }
plugin-error-epoch-thread = 无法启动 epoch 计时线程：{ $error }
plugin-error-runtime = 无法启动异步运行时：{ $error }
plugin-error-link = 无法链接插件宿主提供的导入：{ $error }
plugin-error-prep-thread = 无法启动插件预备线程：{ $error }
plugin-error-read = 无法读取：{ $error }
plugin-error-core-module = 这是 WASM 核心模块，不是组件：请先转成组件（`wasm-tools component new`），或用支持组件的工具链构建（cargo 的 wasm32-wasip2 目标、componentize-py、jco）
plugin-error-not-component = 不是有效的 WASM 组件：{ $error }
plugin-error-missing-imports = 它需要 runner 不提供的导入（{ $error }）——是否基于 runner:plugin@{ $versions } 构建？
plugin-error-wrong-world = 它没有导出 runner:plugin@{ $version } 的 world（{ $error }）；构建所基于的版本：{ $built }
# 插件未导入任何 runner:plugin 版本时，“构建所基于的版本”显示此句。
plugin-no-wit-version = 无（未导入任何 runner:plugin 版本）
# 两个 WIT 版本之间：“0.2.0 或 0.1.0”。
plugin-or = 或
plugin-error-unknown-hook = 它要求调用未知的钩子 `{ $hook }`
plugin-error-hook-too-new = `{ $hook }` 是 runner:plugin@{ $since } 才有的钩子，而该插件基于 { $wit } 构建：需基于 wit/{ $since } 重新构建才能在此调用
plugin-error-dir-not-utf8 = 授权目录 { $dir } 的路径不是 UTF-8
plugin-error-dir-open = 无法打开授权目录 { $dir }：{ $error }
plugin-error-timeout = 运行 { $time } 后超时
plugin-error-memory = 超出内存上限 { $mib } MiB
plugin-error-no-slot = 没有空闲的实例槽位：{ $error }（同时进行的插件调用过多）
plugin-error-trap = 运行出错（trap）：{ $trap }
# 其后另起几行（带缩进）是插件最后的输出。
plugin-error-output = { $error }；插件输出的最后几行：
plugin-no-bindings = runner 没有 runner:plugin@{ $version } 的绑定

## 宿主函数拒绝或失败时插件收到的信息（实际总以英文发送：经 WIT 接口传给插件）
plugin-host-denied = 插件 `{ $plugin }` 未获授权：{ $what }
plugin-host-exec-timeout = `{ $program }` 未在钩子的超时时间内结束
plugin-host-exec = 无法运行 `{ $program }`：{ $error }
plugin-host-bad-url = URL `{ $url }` 无效：{ $error }
plugin-host-http-task = HTTP 调用失败：{ $error }
plugin-host-bad-request = 请求无效：{ $error }
plugin-host-read-response = 读取响应出错：{ $error }

## 沙箱（plugin/sandbox.rs）
# 插件请求了未授权的操作时，警告行的前缀。
plugin-warning = runner：警告：
plugin-denied = 插件 { $plugin }（{ $hook }）：已拒绝{ $what }
plugin-denied-exec = 执行 `{ $program }`
plugin-denied-http = 向 `{ $host }` 发 HTTP 请求
plugin-logs-dropped = 另有 { $n } 行日志被丢弃（每次调用最多保留 { $lines } 行、{ $kib } KiB）
plugin-denials-more = 另有 { $n } 次拒绝未显示
plugin-state-refused = { $n } 次 state-set 调用被拒绝（每个插件在每次发布中最多保存 { $keys } 个键、{ $kib } KiB）
plugin-state-not-persisted = 无法保存插件状态：{ $error }
# 文本被截断时附在末尾（日志行、中止原因）。
plugin-cut = …[另有 { $n } 字节被截去]

## 编译缓存（plugin/engine.rs）
plugin-cache-unusable = 缓存的已编译插件不可用，重新编译：{ $error }
plugin-cache-write = 无法缓存编译好的插件：{ $error }
plugin-cache-serialize = 无法序列化编译好的插件：{ $error }
plugin-cache-env-unsafe = 未使用 RUNNER_PLUGIN_CACHE { $dir }：{ $why }；编译好的插件改为缓存在 { $own }
plugin-cache-create = 无法创建该目录：{ $error }
plugin-cache-stat = 无法读取该目录的属性：{ $error }
plugin-cache-owner = 其属主是 uid { $owner }，而不是 uid { $me }
plugin-cache-writable = 同组或其他用户可写（权限 { $mode }）

## 钩子调用（plugin/host.rs）
plugin-aborted = 插件 `{ $plugin }` 在 { $hook } 中止：{ $reason }
plugin-on-error-warn = on_error = warn，发布继续：{ $error }

## runner plugin list / check
plugin-none = 未配置任何插件
plugin-check-ok = 通过
plugin-check-built = { $wasm } { $name } { $version }：基于 runner:plugin@{ $wit } 构建
plugin-check-hooks = 钩子：{ $hooks }（{ $calls }）
plugin-check-concurrent = concurrent：多次调用可能同时进行
plugin-check-serial = 多次调用不会同时进行
plugin-check-needs = 需要：exec { $exec }；dirs { $dirs }；http { $http }
plugin-check-loaded = 加载耗时 { $time }（{ $how }）
plugin-check-cached = 编译结果取自缓存
plugin-check-compiled = 本次新编译，已缓存供下次使用
plugin-wit-unknown-version = 本 runner 没有 WIT 版本 { $version }：它支持 { $known }

## runner plugin call
plugin-call-proceed = { $call }：proceed（继续）
plugin-call-skip = { $call }：skip（该步骤已由插件完成）
plugin-call-abort = { $call }：abort（中止）：{ $reason }
plugin-call-failed = { $call }：调用失败：{ $error }
plugin-call-not-subscribed = { $plugin } 没有声明 { $hook } 钩子：只有在 [[plugin]] 的 `hooks` 中列出它，发布时才会在此调用
plugin-call-logs = 日志（{ $n } 行）：
plugin-call-host-calls = 宿主调用（{ $n } 次）：
plugin-call-denied = 已拒绝：{ $why }
plugin-call-calls-dropped = …… 另有 { $n } 次宿主调用未记录
plugin-call-output = 插件输出（stdout 与 stderr；共 { $n } 行，显示最后 { $shown } 行，--json 含最后 16 KiB）：
plugin-call-took = 耗时 { $time }，内存峰值 { $memory }（上限 { $limit }）
plugin-call-unknown-hook = 没有钩子 `{ $hook }`：可用的钩子有 { $known }
plugin-call-bad-set = --set { $value }：应为 KEY=VALUE
plugin-call-bad-event = 事件文件 { $path }：{ $error }
plugin-call-event-not-object = 事件文件 { $path }：应为 JSON 对象（一个事件，或 `runner history --json` 中的一次发布）

## runner plugin new
plugin-new-bad-name = `{ $name }` 不能作为插件名：只能使用小写字母、数字和 `-`，以字母开头（最多 64 个字符）
plugin-new-hook-too-new = `{ $hook }` 是 runner:plugin@{ $since } 的钩子：请用 --wit { $since } 构建，而不是 { $wit }
plugin-new-no-hooks = --hooks 没有给出任何钩子
plugin-new-exists = { $dir } 已存在且不为空：未写入任何内容
plugin-new-created = 已创建 { $dir }（{ $lang }，runner:plugin@{ $wit }）
plugin-new-files = 文件：
plugin-new-build = 构建：
plugin-new-try = 试用：
plugin-new-config = 然后加入 runner.toml：
