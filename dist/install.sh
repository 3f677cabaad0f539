#!/bin/sh
# Installs (or rolls back) the solar heating controller from this bundle. POSIX sh, idempotent.
# For boards without dpkg: on Debian and Raspberry Pi OS install the .deb instead
# (apt install ./heat-controller_<version>_<arch>.deb), which this script must not be mixed with.
#
#   sudo sh install.sh            install or upgrade; keeps the replaced binary as *.previous
#   sudo sh install.sh rollback   put heat-controller.previous back (the failed one is kept
#                                 as heat-controller.failed); then restart the service
#
# Environment:
#   DESTDIR          install under this root instead of / (no users are created, nothing chowned)
#   SERVICE_MANAGER  command used for daemon-reload/enable (default `systemctl`; with DESTDIR
#                    set, service manager calls are skipped unless SERVICE_MANAGER is given)
#
# Never overwrites /etc/heat-controller/heat.toml, heat.env or mqtt_password.
set -eu

NAME=heat-controller
SERVICE=$NAME.service
DESTDIR=${DESTDIR:-}
if [ -n "$DESTDIR" ]; then
    DESTDIR=$(cd "$DESTDIR" && pwd) || { echo "install.sh: DESTDIR $DESTDIR does not exist" >&2; exit 1; }
fi
if [ -z "$DESTDIR" ]; then
    SERVICE_MANAGER=${SERVICE_MANAGER:-systemctl}
else
    SERVICE_MANAGER=${SERVICE_MANAGER:-}
fi
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$DESTDIR/usr/local/bin
UNIT_DIR=$DESTDIR/etc/systemd/system
CONF=$DESTDIR/etc/$NAME
DOC=$DESTDIR/usr/local/share/doc/$NAME

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

service_manager() {
    if [ -n "$SERVICE_MANAGER" ]; then
        # Word splitting is wanted: SERVICE_MANAGER may carry options.
        # shellcheck disable=SC2086
        $SERVICE_MANAGER "$@" || die "\`$SERVICE_MANAGER $*\` failed"
    else
        say "DESTDIR set: skipped \`systemctl $*\`"
    fi
}

# Replaces $BIN/$1 with $2 atomically; a differing old binary becomes $1.previous.
install_binary() {
    target=$BIN/$1
    if [ -f "$target" ] && cmp -s "$2" "$target"; then
        say "$target is already this version"
        return 0
    fi
    if [ -f "$target" ]; then
        cp -p "$target" "$target.previous.tmp" && mv -f "$target.previous.tmp" "$target.previous" \
            || die "cannot keep $target as $target.previous"
        say "kept the old $1 as $target.previous"
    fi
    cp "$2" "$target.new" && chmod 0755 "$target.new" && mv -f "$target.new" "$target" \
        || die "cannot install $target"
    say "installed $target"
}

ensure_accounts() {
    if [ -n "$DESTDIR" ]; then
        say "DESTDIR set: not creating the $NAME user or the gpio group"
        return 0
    fi
    getent group gpio >/dev/null || groupadd --system gpio || die "cannot create group gpio"
    getent group "$NAME" >/dev/null || groupadd --system "$NAME" || die "cannot create group $NAME"
    if ! getent passwd "$NAME" >/dev/null; then
        useradd --system --gid "$NAME" --groups gpio --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --comment "solar heating controller" "$NAME" \
            || die "cannot create user $NAME"
        say "created system user $NAME"
    fi
}

install_config() {
    mkdir -p "$CONF" || die "cannot create $CONF"
    chmod 0750 "$CONF"
    [ -n "$DESTDIR" ] || chown "root:$NAME" "$CONF"
    if [ -e "$CONF/heat.env" ]; then
        say "kept the existing $CONF/heat.env"
    else
        # The password comes from the systemd credential, never from this file.
        cp "$HERE/heat.env" "$CONF/heat.env.new" \
            && chmod 0640 "$CONF/heat.env.new" && mv "$CONF/heat.env.new" "$CONF/heat.env" \
            || die "cannot write $CONF/heat.env"
        [ -n "$DESTDIR" ] || chown "root:$NAME" "$CONF/heat.env"
        say "wrote $CONF/heat.env: edit MQTT_BROKER and MQTT_USERNAME"
    fi
    if [ -e "$CONF/heat.toml" ]; then
        say "kept the existing $CONF/heat.toml"
    else
        cp "$HERE/heat.toml" "$CONF/heat.toml.new" && chmod 0644 "$CONF/heat.toml.new" \
            && mv "$CONF/heat.toml.new" "$CONF/heat.toml" || die "cannot write $CONF/heat.toml"
        say "wrote $CONF/heat.toml: fill in the [hardware] mapping (heat-diag sensors --watch)"
    fi
    if [ -e "$CONF/mqtt_password" ]; then
        say "kept the existing $CONF/mqtt_password"
    else
        say "no $CONF/mqtt_password yet: write it (root, mode 0600) before starting, e.g."
        say "  (umask 077; cat >$CONF/mqtt_password)"
    fi
}

install_all() {
    [ -f "$HERE/bin/$NAME" ] || die "this bundle has no bin/$NAME"
    ensure_accounts
    mkdir -p "$BIN" "$UNIT_DIR" "$DOC" || die "cannot create the target directories"
    for exe in "$HERE"/bin/*; do
        install_binary "$(basename "$exe")" "$exe"
    done
    # The unit names the package's /usr/bin; this bundle installs to /usr/local/bin.
    sed -e "s|^ExecStart=/usr/bin/|ExecStart=/usr/local/bin/|" \
        -e "s|^Documentation=file:/usr/share/doc/|Documentation=file:/usr/local/share/doc/|" \
        "$HERE/$SERVICE" >"$UNIT_DIR/$SERVICE.new" && chmod 0644 "$UNIT_DIR/$SERVICE.new" \
        && mv -f "$UNIT_DIR/$SERVICE.new" "$UNIT_DIR/$SERVICE" || die "cannot install the unit"
    say "installed $UNIT_DIR/$SERVICE"
    for doc in README.board.md .env.example; do
        cp "$HERE/$doc" "$DOC/$doc" || die "cannot install $DOC/$doc"
    done
    install_config
    service_manager daemon-reload
    service_manager enable "$SERVICE"
    say "done; start or restart with: systemctl restart $SERVICE"
}

# Only the service's binary: heat-diag.previous may be older than the last install (it is
# kept only when heat-diag changed), and heat-diag does not run as a service.
rollback() {
    target=$BIN/$NAME
    [ -f "$target.previous" ] || die "no $target.previous to roll back to"
    if [ -f "$target" ]; then
        cp -p "$target" "$target.failed.tmp" && mv -f "$target.failed.tmp" "$target.failed" \
            || die "cannot keep $target as $target.failed"
    fi
    cp -p "$target.previous" "$target.new" && mv -f "$target.new" "$target" \
        || die "cannot restore $target"
    say "restored $target from $target.previous"
}

case "${1:-install}" in
    install) install_all ;;
    rollback) rollback ;;
    *) die "unknown command '$1' (use: install, rollback)" ;;
esac
