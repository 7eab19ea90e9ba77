"""What an uploaded file really is: its magic bytes, then mutagen for format and duration.

The file name and the client's Content-Type are never trusted. `probe` is blocking
(file I/O and parsing) and runs in the app's CPU pool.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import mutagen
from mutagen.aac import AAC
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

MIME_TYPES = {
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
}
EXTENSIONS = {"mp3": "mp3", "flac": "flac", "wav": "wav", "wave": "wav", "ogg": "ogg", "oga": "ogg",
              "opus": "ogg", "m4a": "m4a", "mp4": "m4a", "aac": "aac"}
_MIME_TO_FORMAT = {
    "audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/flac": "flac", "audio/x-flac": "flac",
    "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/vnd.wave": "wav",
    "audio/ogg": "ogg", "application/ogg": "ogg", "audio/opus": "ogg", "audio/mp4": "m4a",
    "audio/x-m4a": "m4a", "audio/m4a": "m4a", "audio/aac": "aac", "audio/x-aac": "aac",
}
# The mutagen parsers to try for what the magic bytes suggest.
_PARSERS: dict[str, list[type]] = {
    "mp3": [MP3, AAC], "flac": [FLAC], "wav": [WAVE], "ogg": [OggVorbis, OggOpus, OggFLAC], "m4a": [MP4], "aac": [AAC],
}
_FORMAT_OF = {MP3: "mp3", FLAC: "flac", WAVE: "wav", OggVorbis: "ogg", OggOpus: "ogg", OggFLAC: "ogg", MP4: "m4a",
              AAC: "aac"}


class NotAudio(ValueError):
    """The content is not one of the audio formats we accept."""


@dataclasses.dataclass(frozen=True, slots=True)
class AudioInfo:
    format: str
    mime_type: str
    duration: float


def sniff(head: bytes) -> str | None:
    """The audio format named by the first bytes of a file, or None."""
    if head.startswith(b"ID3"):
        return "mp3"
    if head.startswith(b"fLaC"):
        return "flac"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[4:8] == b"ftyp":
        return "m4a"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS sync word, layer 0
            return "aac"
        if head[1] & 0xE0 == 0xE0:  # MPEG audio frame sync
            return "mp3"
    return None


def probe(path: Path) -> AudioInfo:
    """Sniff, then let mutagen parse the whole header; raises NotAudio on anything else."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    sniffed = sniff(head)
    if sniffed is None:
        raise NotAudio("the file's content is not a supported audio format")
    for parser in _PARSERS[sniffed]:
        try:
            parsed = parser(path)
        except (mutagen.MutagenError, ValueError, EOFError):
            continue
        if parsed.info is not None and getattr(parsed.info, "length", 0) > 0:
            break
    else:
        raise NotAudio("the file looks like audio but could not be parsed")
    fmt = _FORMAT_OF[type(parsed)]
    duration = float(getattr(parsed.info, "length", 0.0) or 0.0)
    return AudioInfo(format=fmt, mime_type=MIME_TYPES[fmt], duration=round(duration, 3))


def format_for(filename: str | None, content_type: str | None) -> str | None:
    """The format a client claims by name or MIME type (for /upload/validate-type only)."""
    if content_type:
        fmt = _MIME_TO_FORMAT.get(content_type.split(";")[0].strip().lower())
        if fmt:
            return fmt
    if filename and "." in filename:
        return EXTENSIONS.get(filename.rsplit(".", 1)[1].lower())
    return None
