# Sourced by the scripts that test a real `latentflow serve` (clients, load, route fuzzing, overhead).

# The Python venv the client scripts run in (websocket-client plus any extra packages given).
client_venv() {
    venv=.build/server-clients-venv
    if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check "websocket-client==1.9.*" "$@"
}

# A loopback port nothing listens on.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (up to 20 s) until the server on PORT answers /system_stats.
wait_for_server() {
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:$1/system_stats" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
}
