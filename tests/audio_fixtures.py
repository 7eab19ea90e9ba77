"""Small real audio files for tests: WAV from the stdlib, the rest encoded by ffmpeg."""

from __future__ import annotations

import io
import math
import shutil
import struct
import subprocess
import wave
from pathlib import Path

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
# ffmpeg encoder and container for each format we accept.
_ENCODERS = {
    "mp3": ["-c:a", "libmp3lame", "-f", "mp3"],
    "flac": ["-c:a", "flac", "-f", "flac"],
    "ogg": ["-c:a", "libvorbis", "-f", "ogg"],
    "m4a": ["-c:a", "aac", "-f", "ipod"],
    "aac": ["-c:a", "aac", "-f", "adts"],
}


def wav_bytes(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A mono 16-bit sine wave."""
    frames = int(seconds * rate)
    samples = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)
    return buffer.getvalue()


def encoded(fmt: str, tmp: Path, seconds: float = 1.0) -> bytes:
    if fmt == "wav":
        return wav_bytes(seconds)
    source = tmp / "source.wav"
    source.write_bytes(wav_bytes(seconds, rate=22050))
    target = tmp / f"out.{fmt}"
    subprocess.run([FFMPEG, "-nostdin", "-loglevel", "error", "-y", "-i", str(source), *_ENCODERS[fmt], str(target)],
                   check=True, timeout=60)
    return target.read_bytes()
