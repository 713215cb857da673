"""Progress of a long command on stderr: a rich bar on a terminal, plain lines into a log file."""

from __future__ import annotations

from contextlib import nullcontext


def progress_bar():
    """Progress on stderr, fed by the pipeline's callback: a transient rich bar, or plain lines into a log file."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    from sitewatch.schema import Stage

    labels: dict[str, str] = {Stage.detect: "detecting", Stage.verify: "asking the model"}
    console = Console(stderr=True)
    if not console.is_terminal:
        from sitewatch.cli.plain_progress import PlainProgress

        return nullcontext(), PlainProgress(labels).update
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
        console=console, transient=True,
    )
    tasks: dict[Stage, int] = {}

    def update(stage: Stage, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(labels.get(stage, stage.value), total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return bar, update
