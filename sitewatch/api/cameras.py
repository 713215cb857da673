"""/v1/cameras: every camera a watcher registered in the history (this server's own, SITEWATCH_WATCH_CONFIG, or a
separate `watch` sharing the history and the data folder): states, newest frames and zones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathPart

from sitewatch.api.problems import Problem
from sitewatch.api.services import services
from sitewatch.live.camera import CameraStatus
from sitewatch.live.published import published_snapshot, published_statuses
from sitewatch.store.database import data_dir
from sitewatch.store.records import CameraZones, ZonesRequest

router = APIRouter(prefix="/cameras", tags=["cameras"])
# A camera's name as the cameras file allows it.
CameraName = Annotated[str, PathPart(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


def camera_statuses(request: Request) -> list[CameraStatus]:
    """The cameras this server watches, then those other watchers published (quiet when their watcher went silent)."""
    watcher = request.app.state.watcher
    own = watcher.statuses() if watcher is not None else []
    return own + published_statuses(services(request).store, skip={status.camera for status in own})


@router.get("", response_model=list[CameraStatus])
def list_cameras(request: Request) -> list[CameraStatus]:
    """Every watched camera's state (up, down, connecting, quiet, ...) and counters; empty when nothing is watched."""
    return camera_statuses(request)


@router.get("/{name}/snapshot.jpg", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "no such camera or no frame yet"}})
def snapshot(request: Request, name: CameraName) -> Response:
    """The camera's newest frame as a JPEG (640 px on the long side); never cached by the browser."""
    watcher = request.app.state.watcher
    jpeg = watcher.snapshot_jpeg(name) if watcher is not None else None
    if jpeg is None:
        svc = services(request)
        # A camera another process watches: only a registered name reads a file, and only its own.
        jpeg = published_snapshot(svc.store, data_dir(svc.settings), name)
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
