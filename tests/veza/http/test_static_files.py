"""Static files: only regular files under the directory, whatever the name tries."""

from __future__ import annotations

from pathlib import Path

from veza.http.static_files import locate


def test_locate_stays_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "app.css").write_text("body {}")
    (tmp_path / "secret.txt").write_text("no")
    (root / "out").symlink_to(tmp_path / "secret.txt")
    (root / "in").symlink_to(root / "css" / "app.css")
    root = root.resolve()
    assert locate(root, "css/app.css") == root / "css" / "app.css"
    assert locate(root, "in") == root / "css" / "app.css"  # a link that stays inside is fine
    for name in ("../secret.txt", "css/../../secret.txt", "out", "/etc/passwd", "css", "nope.css", "a\x00b"):
        assert locate(root, name) is None, name
