# `runner --help` 的中文。英文在 src/cli.rs 的文档注释里（clap、man 页、补全脚本都读那里）。
# id：命令路径（空格换成 -），加 `-about`（命令说明）、`-long`（长说明），或 `--<参数 id>`。
