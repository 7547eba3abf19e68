"""What an ingest run did (or, in a dry run, would do): counts, failures, changes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IngestReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # not documents (web: images...)
    encodings: list[tuple[str, str]] = field(default_factory=list)  # read in a guessed encoding
    pruned: int = 0
    prune_refused: str = ""  # why nothing was pruned although --prune was asked
    chunks: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    repeats: int = 0  # chunks whose passage another document holds (answers show it once)
    near_copies: int = 0  # documents written that are near copies of others (shown once)
    fetch_seconds: float = 0.0  # web: summed over the fetch threads (they overlap)
    parse_seconds: float = 0.0
    changes: list[tuple[str, str]] = field(default_factory=list)  # dry run: ("add", path)...
    truncated: str = ""  # why a crawl or sitemap read stopped before the site's last page

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0

    def summary(self, dry_run: bool = False) -> str:
        if dry_run:
            return (
                f"dry run, nothing was written: {self.new} new, {self.updated} updated, "
                f"{self.unchanged} unchanged, {len(self.failed)} failed"
                + (f", {len(self.skipped)} skipped" if self.skipped else "")
                + (f", {self.would_remove} would be removed" if self.would_remove else "")
                + f"; {self.chunks} chunks would be written"
            )
        line = (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.failed)} failed"
        )
        if self.skipped:
            line += f", {len(self.skipped)} skipped"
        if self.pruned:
            line += f", {self.pruned} pruned"
        if self.repeats:
            line += f"; {self.repeats} chunks repeat passages of other documents (shown once)"
        if self.near_copies:
            line += (
                f'; {self.near_copies} documents are near copies of others (listed once, "also in")'
            )
        return (
            f"{line}; {self.chunks} chunks written in {self.seconds:.1f}s "
            f"({self.chunks_per_second:.1f} chunks/s)"
        )

    @property
    def would_remove(self) -> int:
        return sum(1 for change, _ in self.changes if change == "remove")
