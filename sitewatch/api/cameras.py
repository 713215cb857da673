"""/v1/cameras: the cameras this server watches (SITEWATCH_WATCH_CONFIG), their states and newest frames."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sitewatch.api.problems import Problem
from sitewatch.live.camera import CameraStatus

router = APIRouter(prefix="/cameras", tags=["cameras"])


@router.get("", response_model=list[CameraStatus])
def list_cameras(request: Request) -> list[CameraStatus]:
    """Every watched camera's state (up, down, connecting, ...) and counters; empty when the server watches none."""
    watcher = request.app.state.watcher
    return watcher.statuses() if watcher is not None else []


@router.get("/{name}/snapshot.jpg", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "no such camera or no frame yet"}})
def snapshot(request: Request, name: str) -> Response:
    """The camera's newest frame as a JPEG (640 px on the long side); never cached by the browser."""
    watcher = request.app.state.watcher
    jpeg = watcher.snapshot_jpeg(name) if watcher is not None else None
    if jpeg is None:
        raise Problem(404, f"no frame from a watched camera named {name!r}")
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
