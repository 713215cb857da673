"""/v1/cameras: the cameras this server watches (SITEWATCH_WATCH_CONFIG), their states and newest frames, and the
zones of any camera a watcher registered in the history (this server's, or a separate `watch` sharing it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathPart

from sitewatch.api.problems import Problem
from sitewatch.api.services import services
from sitewatch.live.camera import CameraStatus
from sitewatch.store.records import CameraZones, ZonesRequest

router = APIRouter(prefix="/cameras", tags=["cameras"])
# A camera's name as the cameras file allows it.
CameraName = Annotated[str, PathPart(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


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


@router.get("/{name}/zones", response_model=CameraZones, responses={404: {"description": "no such camera"}})
def get_zones(request: Request, name: CameraName) -> CameraZones:
    """The camera's zones (danger and ignore polygons, corners 0..1) and who last changed them, when."""
    return services(request).store.camera_zones(name)


@router.put("/{name}/zones", response_model=CameraZones, responses={404: {"description": "no such camera"}})
def put_zones(request: Request, name: CameraName, body: ZonesRequest) -> CameraZones:
    """Replace the camera's zones with this whole set (one left out is deleted); its watcher applies them within
    about a second, and the cameras file no longer sets this camera's zones."""
    return services(request).store.put_zones(name, body.zones, body.by)
