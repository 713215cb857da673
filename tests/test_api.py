"""`sitewatch serve` through real HTTP on loopback: a uvicorn server in a subprocess, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi", reason="the API needs the api extra: pip install 'sitewatch[api]'")

from media import SHARED_VIDEOS, write_video  # noqa: E402
from openai_stub import OpenAIStub  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# Short real clips: a fall from a chair (3.7 s) and a fall in a lift (5 s).
REAL_CLIP = SHARED_VIDEOS / "dev06_cwlroda_c.mp4"
TOKEN = "s3cret-token-for-tests"
UPLOAD_LIMIT_MB = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m sitewatch serve` in a subprocess, with its own data folder (and database)."""

    def __init__(self, data_dir: Path, database_url: str | None = None, **env: str) -> None:
        self.data_dir = data_dir
        inherited = {k: v for k, v in os.environ.items() if k not in ("SITEWATCH_API_TOKEN", "SITEWATCH_DATABASE_URL")}
        self.env = {**inherited, "SITEWATCH_DATA_DIR": str(data_dir), "SITEWATCH_UPLOAD_LIMIT_MB": str(UPLOAD_LIMIT_MB),
                    "SITEWATCH_API_WORKERS": "2", **env}
        if database_url:
            self.env["SITEWATCH_DATABASE_URL"] = database_url
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        log = (self.data_dir.parent / f"server-{self.port}.log").open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "sitewatch", "serve", "--port", str(self.port)],
                                     cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the server exited: {self.log()[-2000:]}"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"the server did not start: {self.log()[-2000:]}")

    def log(self) -> str:
        return (self.data_dir.parent / f"server-{self.port}.log").read_text(errors="replace")

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded SQLite default, else a fresh PostgreSQL database URL."""
    return None if request.param == "sqlite" else request.getfixturevalue("postgres").new_database()


@pytest.fixture(scope="module")
def server(database: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("api") / "data", database).start()
    yield running
    running.stop()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Eight small synthetic clips, each a different length (so a result shows whose it is)."""
    folder = tmp_path_factory.mktemp("clips")
    return [write_video(folder / f"clip_{i}.mp4", frames=30 + 6 * i, width=160, height=96) for i in range(8)]


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough (40 s) to be caught running."""
    return write_video(tmp_path_factory.mktemp("long") / "long.mp4", frames=1200, width=160, height=96)


def upload(c: httpx.Client, path: Path, name: str | None = None, **fields: str) -> httpx.Response:
    return c.post("/v1/analyses", files={"file": (name or path.name, path.read_bytes(), "video/mp4")}, data=fields)


def events(c: httpx.Client, url: str, method: str = "GET", **kwargs: Any) -> Iterator[tuple[str, Any]]:
    """Server-sent events as (event, parsed data), until the server ends the stream."""
    with c.stream(method, url, timeout=120, **kwargs) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        event, data = "message", []
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif not line and data:
                yield event, json.loads("\n".join(data))
                event, data = "message", []


def finish(c: httpx.Client, analysis_id: str) -> tuple[list[tuple[str, Any]], Any]:
    """Follow an analysis to its end; return every event and the last one's data."""
    seen = list(events(c, f"/v1/analyses/{analysis_id}/events"))
    assert seen, "no events"
    return seen, seen[-1][1]


def wait_running(c: httpx.Client, analysis_id: str) -> None:
    for event, data in events(c, f"/v1/analyses/{analysis_id}/events"):
        if event == "progress" and data["stage"] == "detect" and data["done"] > 0:
            return
        assert event not in ("result", "failed", "cancelled"), (event, data)


def assert_problem(response: httpx.Response, status: int, says: str = "") -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    assert says.lower() in body["detail"].lower(), body
    assert "Traceback" not in response.text
    return body


@lru_cache(maxsize=1)
def direct_report() -> Any:
    """The real clip analysed in this process, as `sitewatch analyze` does it."""
    from sitewatch.service.assess import analyze
    from sitewatch.settings import get_settings

    return analyze(REAL_CLIP, get_settings())


def test_real_clip_upload_progress_report_chat_history(client: httpx.Client) -> None:
    if not REAL_CLIP.is_file():
        pytest.skip(f"real clip {REAL_CLIP} absent (the shared data set is not here)")
    started = time.monotonic()
    response = upload(client, REAL_CLIP, lang="ko", site="plant-3", camera="cam-7")
    assert response.status_code == 202 and time.monotonic() - started < 5, "the upload answers at once"
    analysis_id = response.json()["id"]

    seen, result = finish(client, analysis_id)
    kinds = [event for event, _ in seen]
    assert kinds[0] == "status" and kinds[-1] == "result"
    steps = [data["done"] for event, data in seen if event == "progress" and data["stage"] == "detect"]
    assert steps and steps == sorted(steps), "progress only goes forward"

    direct = direct_report()
    assert result["verdict"] == direct.verdict.value
    assert [(e["kind"], e["start_s"]) for e in result["events"]] == [(e.kind.value, e.start_s) for e in direct.events]
    report = client.get(f"/v1/analyses/{analysis_id}/report").json()
    assert report == result and report["video"]["path"] == REAL_CLIP.name
    html = client.get(f"/v1/analyses/{analysis_id}/report.html")
    assert html.status_code == 200 and "<html" in html.text.lower()
    keyframe = client.get(f"/v1/analyses/{analysis_id}/keyframes/1")
    assert keyframe.status_code == 200 and keyframe.content[:2] == b"\xff\xd8"

    for question in ("무슨 일이 있었나요?", "Did anyone fall?"):
        turn = [data for event, data in events(client, f"/v1/analyses/{analysis_id}/chat", "POST",
                                              json={"question": question}) if event == "turn"]
        assert len(turn) == 1 and turn[0]["question"] == question and turn[0]["answer"]
        assert turn[0]["answer_en"] == ""  # answered from the report: no model spoke, no English original
    chat = client.get(f"/v1/analyses/{analysis_id}/chat").json()
    assert [t["question"] for t in chat] == ["무슨 일이 있었나요?", "Did anyone fall?"]
    assert chat[0]["lang"] == "ko" and chat[1]["lang"] == "en"

    listed = client.get("/v1/analyses", params={"site": "plant-3", "camera": "cam-7"}).json()
    assert [item["id"] for item in listed["items"]] == [analysis_id]
    assert listed["items"][0]["verdict"] == direct.verdict.value
    by_verdict = client.get("/v1/analyses", params={"verdict": direct.verdict.value, "limit": 500}).json()
    assert analysis_id in [item["id"] for item in by_verdict["items"]]


def test_eight_concurrent_clients_get_only_their_own_results(server: Server, clips: list[Path]) -> None:
    def one_client(clip: Path) -> tuple[Path, str, Any, list[Any]]:
        with server.client() as c:
            response = upload(c, clip, lang="en", camera=clip.stem)
            assert response.status_code == 202, response.text
            analysis_id = response.json()["id"]
            _, result = finish(c, analysis_id)
            list(events(c, f"/v1/analyses/{analysis_id}/chat", "POST", json={"question": f"what about {clip.stem}?"}))
            return clip, analysis_id, result, c.get(f"/v1/analyses/{analysis_id}/chat").json()

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(one_client, clips))
    assert len({analysis_id for _, analysis_id, _, _ in outcomes}) == 8
    for clip, _, result, chat in outcomes:
        frames = int(clip.stem.split("_")[1]) * 6 + 30
        assert result["video"]["path"] == clip.name and result["video"]["frame_count"] == frames
        assert [t["question"] for t in chat] == [f"what about {clip.stem}?"]


def test_the_same_upload_is_analysed_once_unless_forced(client: httpx.Client, clips: list[Path]) -> None:
    first = upload(client, clips[0], lang="ko", site="dedup").json()
    again = upload(client, clips[0], "renamed.mp4", lang="ko", site="dedup").json()
    assert again == {**first, "status": again["status"], "reused": True}
    forced = upload(client, clips[0], lang="ko", site="dedup", force="true").json()
    assert forced["id"] != first["id"] and not forced["reused"]
    other = upload(client, clips[0], lang="en", site="dedup").json()
    assert other["id"] not in (first["id"], forced["id"])
    for analysis_id in (first["id"], forced["id"], other["id"]):
        assert finish(client, analysis_id)[1]["video"]["frame_count"] == 30


def test_an_earlier_analysis_is_reused_exactly_when_the_request_is_equal(tmp_path: Path, clips: list[Path]) -> None:
    """A server restarted with another detector rate analyses again; the same rate reuses; the CLI does alike."""
    data = tmp_path / "data"
    ids = []
    for fps in ("3", "3", "5"):
        server = Server(data, SITEWATCH_DETECT_FPS=fps).start()
        try:
            with server.client() as c:
                submitted = upload(c, clips[5], site="rates").json()
                finish(c, submitted["id"])
                ids.append((submitted["id"], submitted["reused"]))
        finally:
            server.stop()
    (first, reused_first), (second, reused_second), (third, reused_third) = ids
    assert (second, reused_second) == (first, True) and not reused_first
    assert third != first and not reused_third

    env = {**Server(data).env}
    runs = [
        subprocess.run([sys.executable, "-m", "sitewatch", "analyze", str(clips[6]), "--save", *flags],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        for flags in ([], [], ["--fps", "3"])
    ]  # fmt: skip
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    said = [r.stderr.strip().splitlines()[-1] for r in runs]
    assert said[0].startswith("saved to the history as ") and said[2].startswith("saved to the history as ")
    assert said[1] == said[0].replace("saved to", "already in")
    assert said[2] != said[0]


def test_cancel_queued_and_running(client: httpx.Client, long_clip: Path) -> None:
    running = [upload(client, long_clip, frames=str(n), site="cancel").json()["id"] for n in (1, 2)]
    waiting = upload(client, long_clip, frames="3", site="cancel").json()["id"]
    for analysis_id in running:
        wait_running(client, analysis_id)
    assert client.get(f"/v1/analyses/{waiting}").json()["status"] == "queued", "two workers are busy"
    cancelled = client.post(f"/v1/analyses/{waiting}/cancel")
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
    for analysis_id in running:
        assert client.post(f"/v1/analyses/{analysis_id}/cancel").status_code == 202
        assert finish(client, analysis_id)[0][-1][0] == "cancelled"
    record = client.get(f"/v1/analyses/{waiting}").json()
    assert record["status"] == "cancelled" and record["started_at"] is None, "a cancelled queued job never starts"
    assert_problem(client.post(f"/v1/analyses/{waiting}/cancel"), 409, "already cancelled")


def test_bad_requests_get_problem_details(server: Server, client: httpx.Client, clips: list[Path],
                                         long_clip: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    assert_problem(upload(client, text), 415, "notes.mp4: not a video")
    assert str(server.data_dir) not in upload(client, text).text, "no server path reaches a client"
    assert_problem(client.post("/v1/analyses", json={"file": "x"}), 415, "multipart/form-data")
    assert_problem(client.post("/v1/analyses", data={"lang": "en"}, files={"other": ("a", b"a")}), 422, "field 'file'")
    assert_problem(upload(client, clips[0], model="gpt-4o"), 422, "not offered")
    assert_problem(upload(client, clips[0], model="/models/secret"), 422, "not offered")
    assert_problem(upload(client, clips[0], lang="fr"), 422, "lang")
    assert_problem(upload(client, clips[0], frames="0"), 422, "frames")
    assert_problem(upload(client, clips[0], url="http://x"), 422, "unknown form field")
    tiny = write_video(tmp_path / "dot.mkv", frames=3, width=2, height=2, codec="ffv1")
    assert_problem(upload(client, tiny), 422, "dot.mkv: 2x2 is too small to show a person")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert_problem(upload(client, empty), 415, "the file is empty")
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom((UPLOAD_LIMIT_MB + 1) << 20))
    assert_problem(upload(client, big), 413, "limit")
    assert not list((server.data_dir / "uploads").glob("*")), "a refused upload leaves nothing behind"

    for method, path in (("GET", ""), ("GET", "/report"), ("GET", "/report.html"), ("GET", "/keyframes/1"),
                         ("GET", "/events"), ("GET", "/chat"), ("POST", "/cancel"), ("DELETE", "")):
        assert_problem(client.request(method, f"/v1/analyses/no-such-id{path}"), 404, "no analysis")
    assert_problem(client.post("/v1/analyses/no-such-id/chat", json={"question": "hi"}), 404)

    busy = upload(client, long_clip, site="busy").json()["id"]
    early = client.post(f"/v1/analyses/{busy}/chat", json={"question": "what happened?"})
    assert_problem(early, 409, "once it is done")
    assert_problem(client.get(f"/v1/analyses/{busy}/report"), 409, "not ready")
    client.post(f"/v1/analyses/{busy}/cancel")
    done = upload(client, clips[1]).json()["id"]
    finish(client, done)
    assert_problem(client.post(f"/v1/analyses/{done}/chat", json={"question": "   "}), 422, "empty")
    assert_problem(client.post(f"/v1/analyses/{done}/chat", json={"question": "x" * 5000}), 422, "longer")
    assert_problem(client.post(f"/v1/analyses/{done}/chat", json={}), 422, "question")
    assert_problem(client.get(f"/v1/analyses/{done}/keyframes/99"), 404, "keyframe")
    assert_problem(client.get(f"/v1/analyses/{done}/keyframes/..%2F..%2Freport.json"), 404)
    assert_problem(client.get("/v1/analyses", params={"verdict": "maybe"}), 422, "verdict")
    assert_problem(client.get("/v1/nothing-here"), 404)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


def _raw_post(server: Server, path: str, head: str, body_chunks: Iterator[bytes]) -> tuple[int, bytes]:
    """POST over a raw socket, sending body chunks until the server answers or closes; (status, response)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode())
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused and closed: what a client sending too much should see
        sock.settimeout(30)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or len(answer) < 200:
                piece = sock.recv(65536)
                if not piece:
                    break
                answer += piece
        except (ConnectionResetError, TimeoutError):
            pass
    return int(answer.split(b" ", 2)[1]), answer


def test_an_oversized_body_is_refused_before_it_is_read(server: Server, client: httpx.Client,
                                                        clips: list[Path]) -> None:
    done = upload(client, clips[7]).json()["id"]
    finish(client, done)
    assert server.proc is not None
    before = _rss_mb(server.proc.pid)
    path = f"/v1/analyses/{done}/chat"
    declared = 250 << 20
    # 250 MB declared, 4 MB actually sent: the answer comes from the header, not after reading the body.
    status, answer = _raw_post(server, path, f"Content-Type: application/json\r\nContent-Length: {declared}\r\n",
                               iter([b"x" * (1 << 20)] * 4))
    assert status == 413 and b"application/problem+json" in answer and b"larger than this route" in answer
    # Chunked (no length): refused once the cap is passed, while at most 20 MB of it was offered.
    chunk = b"x" * (1 << 20)
    chunked = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(20))
    status, _ = _raw_post(server, path, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", chunked)
    assert status == 413
    assert _rss_mb(server.proc.pid) - before < 50, "the refused bodies reached server memory"
    big_upload = (UPLOAD_LIMIT_MB + 1) << 20
    status, _ = _raw_post(server, "/v1/analyses", f"Content-Type: multipart/form-data; boundary=b\r\n"
                          f"Content-Length: {big_upload}\r\n", iter([b"--b\r\n"]))
    assert status == 413
    # A normal question still gets its answer after all that.
    answer = client.post(path, json={"question": "what happened?"})
    assert answer.status_code == 200


@pytest.mark.parametrize("route", ["/v1/analyses", "/v1/incidents"])
@pytest.mark.parametrize("offset", ["9223372036854775808", "2147483648", "-1", "1e3", "99999999999999999999999"])
def test_paging_beyond_any_integer_is_a_problem_not_a_crash(client: httpx.Client, route: str, offset: str) -> None:
    assert_problem(client.get(route, params={"offset": offset}), 422, "offset")


def test_delete_removes_the_record_and_its_files(server: Server, client: httpx.Client, clips: list[Path]) -> None:
    analysis_id = upload(client, clips[2], site="delete-me").json()["id"]
    finish(client, analysis_id)
    folders = list(server.data_dir.glob(f"videos/*/*/reports/{analysis_id}"))
    assert len(folders) == 1 and (folders[0] / "report.json").is_file()
    assert client.delete(f"/v1/analyses/{analysis_id}").status_code == 204
    assert_problem(client.get(f"/v1/analyses/{analysis_id}"), 404)
    assert not folders[0].exists()
    assert client.get("/v1/analyses", params={"site": "delete-me"}).json()["total"] == 0


def test_health_and_docs(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/analyses", "/v1/analyses/{analysis_id}/events", "/v1/analyses/{analysis_id}/chat"} <= set(paths)


def test_analyze_save_writes_to_the_history_the_server_lists(server: Server, client: httpx.Client,
                                                            clips: list[Path]) -> None:
    env = {**server.env}
    saved = subprocess.run([sys.executable, "-m", "sitewatch", "analyze", str(clips[3]), "--save", "--json"],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert saved.returncode == 0, saved.stderr
    report = json.loads(saved.stdout)
    analysis_id = saved.stderr.split("saved to the history as ")[1].split()[0]
    record = client.get(f"/v1/analyses/{analysis_id}").json()
    assert (record["status"], record["source"], record["verdict"]) == ("done", "cli", report["verdict"])
    assert client.get(f"/v1/analyses/{analysis_id}/report").json()["events"] == report["events"]
    listed = subprocess.run([sys.executable, "-m", "sitewatch", "history", "--json", "--limit", "500"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert analysis_id in [item["id"] for item in json.loads(listed.stdout)["items"]]


def test_kill_9_mid_job_then_restart_finishes(database: str | None, tmp_path: Path, long_clip: Path) -> None:
    server = Server(tmp_path / "data", database, SITEWATCH_API_WORKERS="1").start()
    try:
        with server.client() as c:
            analysis_id = upload(c, long_clip, site="crash").json()["id"]
            wait_running(c, analysis_id)
        server.kill()
        assert not list(server.data_dir.glob(f"videos/*/*/reports/{analysis_id}")), "nothing half-written is served"
        server.start()
        with server.client() as c:
            _, result = finish(c, analysis_id)
            assert result["video"]["frame_count"] == 1200
            record = c.get(f"/v1/analyses/{analysis_id}").json()
            assert (record["status"], record["attempts"]) == ("done", 2)
            assert c.get(f"/v1/analyses/{analysis_id}/report").json() == result
    finally:
        server.stop()


def test_a_token_guards_every_route_but_healthz(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", SITEWATCH_API_TOKEN=TOKEN).start()
    try:
        with server.client() as anonymous, server.client("wrong-token") as wrong, server.client(TOKEN) as right:
            assert anonymous.get("/healthz").status_code == 200
            assert right.get("/v1/analyses").json()["total"] == 0
            assert right.get("/docs").status_code == 200
            # Five wrong tokens a minute from one address (the sixth waits: tests/test_console_security.py).
            for path in ("/v1/analyses", "/readyz", "/docs", "/openapi.json", "/v1/analyses/x"):
                assert_problem(anonymous.get(path), 401, "bearer token")
                assert_problem(wrong.get(path), 401, "wrong")
            assert anonymous.get("/v1/analyses").headers["www-authenticate"].startswith("Bearer")
    finally:
        server.stop()


def test_binding_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SITEWATCH_API_TOKEN"}
    refused = subprocess.run([sys.executable, "-m", "sitewatch", "serve", "--host", "0.0.0.0", "--port", "9"],
                             cwd=REPO, env={**env, "SITEWATCH_DATA_DIR": str(tmp_path)}, capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode == 2 and "SITEWATCH_API_TOKEN" in refused.stderr
    for blank in ("", "   "):
        blank_env = {**env, "SITEWATCH_DATA_DIR": str(tmp_path), "SITEWATCH_API_TOKEN": blank}
        refused = subprocess.run([sys.executable, "-m", "sitewatch", "serve", "--host", "0.0.0.0", "--port", "9"],
                                 cwd=REPO, env=blank_env, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.strip().splitlines() == [
            "error: binding 0.0.0.0 exposes the API to the network: set SITEWATCH_API_TOKEN first"
        ]


def test_an_offered_model_verifies_and_chats_and_the_chat_survives_a_restart(tmp_path: Path,
                                                                             clips: list[Path]) -> None:
    with OpenAIStub(lambda request: ["It was ", "a quiet scene."]) as stub:
        model = f"openai:stub-vlm@{stub.base_url}"
        server = Server(tmp_path / "data", SITEWATCH_MODELS=model).start()
        try:
            with server.client() as c:
                analysis_id = upload(c, clips[4], lang="en", model=model).json()["id"]
                assert finish(c, analysis_id)[1]["model"], "the model verified the clip"
                asked = list(events(c, f"/v1/analyses/{analysis_id}/chat", "POST", json={"question": "What happened?"}))
                assert [e for e, _ in asked].count("delta") >= 1 and asked[-1][0] == "turn"
                assert (asked[-1][1]["source"], asked[-1][1]["answer"]) == ("model", "It was a quiet scene.")
            server.stop()
            server.start()
            with server.client() as c:
                again = list(events(c, f"/v1/analyses/{analysis_id}/chat", "POST", json={"question": "And then?"}))
                assert again[-1][0] == "turn"
                assert len(c.get(f"/v1/analyses/{analysis_id}/chat").json()) == 2
            sent = json.dumps(stub.requests[-1].messages)
            assert "What happened?" in sent, "the restarted server gave the model the earlier turn"
        finally:
            server.stop()
