#!/usr/bin/env bash
# Restart script for the demo app (modelled on ops' service_local.sh).
#
# usage: service.sh <start|stop|restart|status> <app_dir>
#
# <app_dir> holds app.jar, lib/*.jar and conf/port; the script maintains
# logs/app.log (stdout+stderr of the JVM, appended) and run/app.pid.
# Env: JAVA overrides the java binary; JAVA_OPTS adds extra JVM options.
set -euo pipefail

usage() {
    echo "usage: $0 <start|stop|restart|status> <app_dir>" >&2
    exit 64
}

[ $# -eq 2 ] || usage
action=$1
cd "$2" || { echo "service.sh: no such app dir: $2" >&2; exit 1; }

JAVA=${JAVA:-java}
PID_FILE=run/app.pid
LOG_FILE=logs/app.log
STOP_TIMEOUT_TENTHS=300   # 30 s, polled every 0.1 s

# Is <pid> alive (and not a zombie waiting to be reaped by a lazy PID 1)?
alive() {
    local pid=$1 state
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -r "/proc/$pid/stat" ]; then
        state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1) || true
        [ "$state" != Z ] || return 1
    fi
    return 0
}

# Close every descriptor above 2 that this shell inherited (e.g. a caller's
# pipe that is not close-on-exec), so a long-lived child cannot keep it open.
close_inherited_fds() {
    local f fd
    for f in /proc/$BASHPID/fd/*; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        fd=${f##*/}
        case "$fd" in 0|1|2|*[!0-9]*) continue ;; esac
        eval "exec $fd>&-" 2>/dev/null || true
    done
}

# Prints the pid from the pid file if that process is running.
running_pid() {
    local pid
    [ -f "$PID_FILE" ] || return 1
    pid=$(tr -dc '0-9' < "$PID_FILE")
    [ -n "$pid" ] || return 1
    alive "$pid" || return 1
    echo "$pid"
}

do_start() {
    local pid port
    if pid=$(running_pid); then
        echo "already running (pid $pid)"
        return 0
    fi
    [ -f app.jar ] || { echo "service.sh: $(pwd)/app.jar not found" >&2; return 1; }
    [ -f conf/port ] || { echo "service.sh: $(pwd)/conf/port not found" >&2; return 1; }
    port=$(tr -dc '0-9' < conf/port)
    [ -n "$port" ] || { echo "service.sh: conf/port holds no port number" >&2; return 1; }
    mkdir -p logs run

    # Fully detached: new session, stdin from /dev/null, stdout/stderr to the log,
    # and every other inherited descriptor closed, so the JVM never holds the
    # caller's pipes open.  In a non-interactive shell the background subshell is
    # not a process-group leader, so setsid and nohup both exec in place and $!
    # is the JVM's pid.
    (
        close_inherited_fds
        # shellcheck disable=SC2086
        exec setsid nohup "$JAVA" -Xshare:auto -XX:TieredStopAtLevel=1 ${JAVA_OPTS:-} \
            -Dserver.port="$port" -cp "app.jar:lib/*" demo.DemoApp
    ) </dev/null >>"$LOG_FILE" 2>&1 &
    pid=$!
    echo "$pid" > "$PID_FILE"
    echo "started (pid $pid)"
}

do_stop() {
    local pid i
    if ! pid=$(running_pid); then
        rm -f "$PID_FILE"
        echo "not running"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    i=0
    while alive "$pid" && [ "$i" -lt "$STOP_TIMEOUT_TENTHS" ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if alive "$pid"; then
        echo "pid $pid did not stop within 30 s, sending KILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        i=0
        while alive "$pid" && [ "$i" -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
    fi
    rm -f "$PID_FILE"
    echo "stopped (pid $pid)"
}

case "$action" in
    start) do_start ;;
    stop) do_stop ;;
    restart) do_stop; do_start ;;
    status)
        if pid=$(running_pid); then
            echo "running (pid $pid)"
            exit 0
        fi
        echo "not running"
        exit 3
        ;;
    *) usage ;;
esac
