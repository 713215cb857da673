#!/usr/bin/env bash
# The whole test suite: installs the dev extras (and, as root, Debian's chromium + Korean fonts for the
# browser tests), then runs ruff and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev

if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -i "noto sans cjk" >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    bash scripts/apt_install.sh "the browser tests" chromium fonts-noto-cjk
  else
    echo "test: /usr/bin/chromium missing and not root: browser tests will be skipped" >&2
  fi
fi

# The API and store tests also run against a real PostgreSQL server that they start themselves.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    bash scripts/apt_install.sh "the API and store tests" postgresql
  else
    echo "test: PostgreSQL missing and not root: its API and store tests will be skipped" >&2
  fi
fi

# The live-camera tests stream through a real RTSP server (GStreamer's, run by the system Python) and a
# real MQTT broker (mosquitto), both started by the tests on loopback.
if [ ! -x /usr/sbin/mosquitto ] || ! /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" \
    2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    bash scripts/apt_install.sh "the live-camera tests" gir1.2-gst-rtsp-server-1.0 python3-gi \
      gstreamer1.0-plugins-good gstreamer1.0-plugins-bad mosquitto
  else
    echo "test: RTSP server or mosquitto missing and not root: those live-camera tests will be skipped" >&2
  fi
fi

.venv/bin/ruff check sitewatch tests benchmarks samples scripts
.venv/bin/python -m pytest -q "$@"
