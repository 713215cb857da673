"""A real RTSP server (GStreamer's gst-rtsp-server) streaming MP4 files at their real rate, for the live tests.

Run with the system Python, which sees Debian's `gi` (python3-gi, gir1.2-gst-rtsp-server-1.0):

    /usr/bin/python3 tests/rtsp_server.py --port 8554 cam=/path/fall.mp4 ...

Each client gets its own pipeline, so every connection plays its file from the start. Prints "ready"
once it listens.
"""

from __future__ import annotations

import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PIPELINE = "( filesrc location={path} ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"


def main() -> None:
    """Serve each MOUNT=FILE at rtsp://127.0.0.1:PORT/MOUNT until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("mounts", nargs="+", help="name=path.mp4 (H.264 in MP4)")
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    for mount in args.mounts:
        name, path = mount.split("=", 1)
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(PIPELINE.format(path=path))
        factory.set_shared(False)
        server.get_mount_points().add_factory(f"/{name}", factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on port {args.port}")
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
