"""Case photos: validating and re-encoding uploads, storing them, making thumbnails.

Every upload is treated as hostile: it is checked (size, real image, supported format,
pixel count, aspect ratio and decoded size — all from the header, before decoding —
complete data) and then re-encoded from its pixels into a fresh JPEG, so
nothing of the original file survives — no EXIF (above all no GPS position of the
worker's phone), no ICC/XMP, no trailing bytes. The EXIF orientation is applied first,
so the photo stays upright.

``photo_ingest`` / ``photos_ingest`` are the only writers of ``ReportPhoto`` rows. The
heavy Pillow work can be done before a transaction is opened with ``photos_prepare``;
the prepared photos are then passed to ``photos_ingest`` in place of the uploads.
``photo_make_thumbnail`` is the body of the thumbnail task: idempotent and quiet when
the photo is gone.

Files and transactions: a file is on disk before its row commits. Every writer of case
photos runs inside ``files_removed_on_failure()`` around its transaction, so a failed
transaction (any exception, the commit's own included) takes its files with it;
``photo_files_sweep`` removes what is left by anything else (a killed process, a caller's
outer transaction rolled back after ours). A full or read-only disk raises
``StorageUnavailable`` with nothing left behind.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import time
import uuid
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import FileField as models_FileField
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageFile, ImageOps

from accounts.models import User
from reports.errors import StorageUnavailable
from reports.models import PhotoKind, Report, ReportEvent, ReportPhoto

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_SIDE = 2048
# 40 megapixels: well above any phone camera (a 200 MP sensor saves 12 MP by default),
# and at most 160 MB of RGBA while decoding. Pillow's own bomb limit is ~89 MP.
DEFAULT_MAX_PIXELS = 40_000_000
# Decoded memory is bounded separately: pixels alone miss how Pillow stores an image,
# one row at a time (a 1 × 40,000,000 PNG is 40 MP but took 918 MB and 16 s to decode).
# 192 MB is a 40 MP photo at 4 bytes a pixel plus its row table.
DEFAULT_MAX_DECODED_BYTES = 192 * 1024 * 1024
# Phone panoramas reach ~10:1 and scrolling screenshots ~20:1; beyond 50:1 a "photo"
# is a strip that cannot even be made into a thumbnail.
DEFAULT_MAX_ASPECT_RATIO = 50
# Bytes a pixel takes once decoded: Pillow keeps every mode of more than one band, and
# 32-bit modes, in 4 bytes; plus one pointer per row (see ``_decoded_bytes``).
_ONE_BYTE_MODES = {"1", "L", "P"}
_ROW_POINTER_BYTES = 8
MAX_PHOTOS = 9
THUMBNAIL_SIDE = 320
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 80

# HEIC/HEIF (iPhone) is accepted only if a Pillow plugin that can open it is installed
# (pillow-heif registers "HEIF"); plain Pillow cannot. Phone browsers convert HEIC to
# JPEG when a page takes a photo, so this matters only for files picked from an album.
_FORMAT_NAMES = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC"}
# Phones (many Android cameras, iPhones for some shots) write multi-picture JPEGs: a
# JPEG followed by more frames (depth map, HDR gain map). Pillow opens them as "MPO";
# they are accepted as JPEG and only the first frame is kept (re-encoded like any photo).
_ALSO_ACCEPTED = frozenset({"MPO"})

# Pillow's own bomb check applies to every Image.open in the process (the thumbnail
# task too): it warns above MAX_IMAGE_PIXELS and refuses above twice that. Aligned with
# our limit instead of Pillow's ~89 MP: ``_open`` turns the warning into a refusal, so
# anything above 2 × 40 MP is refused while Pillow reads the header, and our own check
# below refuses 40-80 MP with the image's size in the message.
Image.MAX_IMAGE_PIXELS = 2 * DEFAULT_MAX_PIXELS


def accepted_formats() -> list[str]:
    """Pillow format ids accepted for upload, in the order shown to users."""
    Image.init()
    return [f for f in ("JPEG", "PNG", "WEBP", "HEIF") if f in Image.OPEN]


def _accepted_names() -> str:
    return "、".join(_FORMAT_NAMES[f] for f in accepted_formats())


# Every limit is a setting in jinzhitong/settings.py (env-driven, documented there and in
# docs/architecture.md), read on each use so that changing it changes behaviour.


def _max_bytes() -> int:
    return int(settings.REPORT_PHOTO_MAX_BYTES)


def _max_side() -> int:
    return int(settings.REPORT_PHOTO_MAX_SIDE)


def _max_pixels() -> int:
    return int(settings.REPORT_PHOTO_MAX_PIXELS)


def _max_request_pixels() -> int:
    return int(settings.REPORT_PHOTOS_MAX_PIXELS_PER_REQUEST)


def _max_decoded_bytes() -> int:
    return int(settings.REPORT_PHOTO_MAX_DECODED_BYTES)


def _max_aspect_ratio() -> float:
    return float(settings.REPORT_PHOTO_MAX_ASPECT_RATIO)


def _decoded_bytes(mode: str, width: int, height: int) -> int:
    """Memory the decoded image takes: width × height × bytes a pixel, plus a row table.

    Known from the header alone, before anything is decoded.
    """
    per_pixel = 1 if mode in _ONE_BYTE_MODES else 2 if mode.startswith("I;16") else 4
    return height * (width * per_pixel + _ROW_POINTER_BYTES)


def _size_of(file: File[bytes]) -> int:
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    file.seek(0)
    return int(size)


def _megabytes(n: int) -> str:
    """Size in MB with one decimal, rounded up: 10 MB + 1 byte is "10.1", not "10"."""
    tenths = -(-n * 10 // (1024 * 1024))
    return f"{tenths / 10:.1f}".removesuffix(".0")


# -- validation -------------------------------------------------------------------------


def _open(file: File[bytes] | IO[bytes]) -> ImageFile.ImageFile:
    """Open (header only) and check format and pixel count before anything is decoded."""
    file.seek(0)
    # Pillow's bomb limit follows the setting (it warns above MAX_IMAGE_PIXELS, refusing
    # here), so a city that raises REPORT_PHOTO_MAX_PIXELS is not still held at 80 MP.
    Image.MAX_IMAGE_PIXELS = 2 * _max_pixels()
    # Pillow warns above ~89 MP and raises above twice that; both are refusals here.
    # (catch_warnings is process-global on Python 3.11; the worst a race can do is
    # leave this one filter switched on, which is what we want anyway.)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(file)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(None) from None
        except Exception:
            raise ValidationError(
                _("不是有效的图片，请上传 %(formats)s 格式的照片。")
                % {"formats": _accepted_names()},
                code="not_image",
            ) from None
    if img.format not in accepted_formats() and img.format not in _ALSO_ACCEPTED:
        raise ValidationError(
            _("不支持 %(format)s 格式的图片，请上传 %(formats)s 格式的照片。")
            % {"format": img.format or _("未知"), "formats": _accepted_names()},
            code="unsupported_format",
        )
    width, height = img.size
    if width < 1 or height < 1:
        raise ValidationError(_("图片文件已损坏，请重新拍摄或选择。"), code="corrupt")
    if width * height > _max_pixels():
        raise _too_many_pixels((width, height))
    if max(width, height) > _max_aspect_ratio() * min(width, height):
        raise ValidationError(
            _("图片过于细长（%(width)d×%(height)d），长边不能超过短边的 %(ratio)d 倍。")
            % {"width": width, "height": height, "ratio": _max_aspect_ratio()},
            code="aspect_ratio",
        )
    decoded, decoded_limit = _decoded_bytes(img.mode, width, height), _max_decoded_bytes()
    if decoded > decoded_limit:
        raise ValidationError(
            _("图片解码后过大（约 %(size)s MB），不能超过 %(limit)s MB。")
            % {"size": _megabytes(decoded), "limit": _megabytes(decoded_limit)},
            code="too_big_decoded",
        )
    if getattr(img, "n_frames", 1) > 1:
        img.seek(0)  # a multi-picture JPEG: the photo itself is the first frame
    return img


def _too_many_pixels(size: tuple[int, int] | None) -> ValidationError:
    limit = _max_pixels() // 10_000
    if size is None:
        return ValidationError(
            _("图片像素过多，最多 %(limit)d 万像素。") % {"limit": limit}, code="too_many_pixels"
        )
    return ValidationError(
        _("图片像素过多（%(width)d×%(height)d），最多 %(limit)d 万像素。")
        % {"width": size[0], "height": size[1], "limit": limit},
        code="too_many_pixels",
    )


def _decode(file: File[bytes] | IO[bytes], *, draft_side: int | None) -> Image.Image:
    """Open and fully decode the image; a truncated or damaged file raises."""
    img = _open(file)
    if draft_side is not None:
        # JPEG only: let libjpeg decode at 1/2…1/8 scale when that still leaves at
        # least ``draft_side`` pixels a side. All compressed data is still read, so a
        # truncated file still fails, at a fraction of the memory.
        img.draft(None, (draft_side, draft_side))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img.load()
        except Exception:
            raise ValidationError(
                _("图片文件已损坏或不完整，请重新拍摄或选择。"), code="corrupt"
            ) from None
    return img


def photos_check_pixels(files: Sequence[File[bytes] | PreparedPhoto]) -> None:
    """Refuse a request whose photos together have more pixels than
    REPORT_PHOTOS_MAX_PIXELS_PER_REQUEST, from their headers, before any is decoded. A
    file that cannot be opened counts nothing here: ``validate_upload`` refuses it."""
    total = 0
    for file in files:
        if isinstance(file, PreparedPhoto):
            continue
        try:
            file.seek(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                width, height = Image.open(file).size
        except Exception:  # refused, with its reason, by validate_upload
            continue
        finally:
            file.seek(0)
        total += width * height
    limit = _max_request_pixels()
    if total > limit:
        raise ValidationError(
            _("照片总像素过多（约 %(total)d 万像素），每次最多 %(limit)d 万像素，"
              "请减少照片数量或降低分辨率。")
            % {"total": total // 10_000, "limit": limit // 10_000},
            code="too_many_pixels_in_request",
        )


def validate_upload(file: File[bytes]) -> None:
    """Refuse anything but a complete JPEG/PNG/WebP photo of sensible size and pixel count.

    Raises ``ValidationError`` with a Chinese message; reads the file, leaves it at 0.
    """
    size = _size_of(file)
    if size == 0:
        raise ValidationError(_("照片是空文件，请重新拍摄或选择。"), code="empty")
    limit = _max_bytes()
    if size > limit:
        raise ValidationError(
            _("照片太大（%(size)s MB），不能超过 %(limit)s MB。")
            % {"size": _megabytes(size), "limit": _megabytes(limit)},
            code="too_big",
        )
    img = _open(file)
    try:
        img.verify()
    except Exception:
        raise ValidationError(
            _("图片文件已损坏或不完整，请重新拍摄或选择。"), code="corrupt"
        ) from None
    # verify() leaves the image unusable; decoding the pixels is the real test.
    _decode(file, draft_side=1)
    file.seek(0)


# -- re-encoding ------------------------------------------------------------------------


def _to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert pixels from the upload's colour profile to sRGB, since the profile is
    dropped with the rest of the metadata (phones shoot in Display P3)."""
    if not icc or img.mode not in ("RGB", "CMYK"):
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            img, src, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        logger.info("photo ICC profile ignored: cannot convert from it")
        return img
    return converted if converted is not None else img


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    ):
        # Transparent pixels become white, not whatever colour they happen to hold.
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if img.mode.startswith("I;16") or img.mode == "I":
        # 16-bit greyscale: scale to 8 bits rather than clipping everything to white.
        return img.convert("I").point(lambda v: v / 256).convert("L").convert("RGB")
    return img.convert("RGB")


def _fresh_jpeg(img: Image.Image, **options: Any) -> bytes:
    # A new image carries no ``info``: nothing of the upload's metadata can be written.
    clean = Image.new("RGB", img.size)
    clean.paste(img)
    out = io.BytesIO()
    clean.save(out, "JPEG", optimize=True, **options)
    return out.getvalue()


def reencode(file: File[bytes] | IO[bytes]) -> tuple[ContentFile[bytes], int, int]:
    """The photo as a new, metadata-free, upright JPEG no larger than the max side.

    Returns ``(content, width, height)``; ``content.name`` is ``<uuid>.jpg``. The file
    should have passed ``validate_upload``; a bad one still raises ``ValidationError``.
    """
    side = _max_side()
    img = _decode(file, draft_side=side)
    icc = img.info.get("icc_profile")
    img = ImageOps.exif_transpose(img)
    img = _to_srgb(img, icc)
    img = _to_rgb(img)
    img.thumbnail((side, side), Image.Resampling.LANCZOS)
    data = _fresh_jpeg(img, quality=JPEG_QUALITY, progressive=True)
    width, height = img.size
    return ContentFile(data, name=f"{uuid.uuid4().hex}.jpg"), width, height


# -- storing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedPhoto:
    """An upload that passed validation and was re-encoded; not stored yet."""

    content: ContentFile[bytes]
    width: int
    height: int


def photo_prepare(file: File[bytes]) -> PreparedPhoto:
    validate_upload(file)
    content, width, height = reencode(file)
    return PreparedPhoto(content, width, height)


def photos_prepare(files: Sequence[File[bytes] | PreparedPhoto]) -> list[PreparedPhoto]:
    """Validate and re-encode every file (no database); the first bad one raises a
    ``ValidationError`` naming it ("第2张照片：…"). Call this before opening a transaction
    to keep the Pillow work out of it, then pass the result to ``photos_ingest``."""
    prepared = []
    for n, file in enumerate(files, start=1):
        if isinstance(file, PreparedPhoto):
            prepared.append(file)
            continue
        try:
            prepared.append(photo_prepare(file))
        except ValidationError as exc:
            raise ValidationError(
                _("第%(n)d张照片：%(error)s") % {"n": n, "error": exc.messages[0]},
                code=exc.code,
            ) from None
    return prepared


def _check_count(existing: int, adding: int, max_count: int) -> None:
    if existing + adding <= max_count:
        return
    if existing:
        message = _("最多上传 %(max)d 张照片（已有 %(existing)d 张）。") % {
            "max": max_count, "existing": existing,
        }
    else:
        message = _("最多上传 %(max)d 张照片。") % {"max": max_count}
    raise ValidationError(message, code="too_many")


def _existing_count(report: Report, kind: str) -> int:
    return ReportPhoto.objects.filter(report=report, kind=kind).count()


def photos_ingest(
    *,
    report: Report,
    kind: str,
    files: Sequence[File[bytes] | PreparedPhoto],
    uploaded_by: User | None,
    event: ReportEvent | None = None,
    max_count: int = MAX_PHOTOS,
) -> list[ReportPhoto]:
    """Store photos of one kind on a case: all of them or none.

    Refuses more than ``max_count`` photos of the kind on the case in total, and any bad
    file, before anything is written. ``files`` may hold uploads or ``PreparedPhoto``s.
    """
    if kind not in PhotoKind.values:
        raise ValueError(f"unknown photo kind {kind!r}")
    if not files:
        return []
    # Cheap refusal before any decoding; checked again under the lock below.
    _check_count(_existing_count(report, kind), len(files), max_count)
    prepared = photos_prepare(files)

    written: list[ReportPhoto] = []
    with files_removed_on_failure(), transaction.atomic():
        # Two uploads at once must not both fit under the limit.
        list(Report.objects.select_for_update().filter(pk=report.pk).values_list("pk"))
        _check_count(_existing_count(report, kind), len(prepared), max_count)
        for p in prepared:
            p.content.seek(0)
            written.append(
                ReportPhoto.objects.create(
                    report=report, event=event, kind=kind, image=_store("image", p.content),
                    width=p.width, height=p.height, uploaded_by=uploaded_by,
                )
            )
    return written


def photo_ingest(
    *,
    report: Report,
    kind: str,
    file: File[bytes] | PreparedPhoto,
    uploaded_by: User | None,
    event: ReportEvent | None = None,
    max_count: int = MAX_PHOTOS,
) -> ReportPhoto:
    """Validate, re-encode and store one photo of a case (``ValidationError`` if bad)."""
    if not isinstance(file, PreparedPhoto):
        file = photo_prepare(file)
    (photo,) = photos_ingest(
        report=report, kind=kind, files=[file], uploaded_by=uploaded_by, event=event,
        max_count=max_count,
    )
    return photo


# -- files and transactions ---------------------------------------------------------------

# errno → StorageUnavailable.reason: the disk cannot take files until an operator acts.
_STORAGE_ERRNOS = {
    errno.ENOSPC: "full",
    errno.EDQUOT: "full",
    errno.EROFS: "read_only",
    errno.EACCES: "denied",
    errno.EPERM: "denied",
}

# Files written by the innermost ``files_removed_on_failure`` block of this thread/task.
_written: ContextVar[list[tuple[Storage, str]] | None] = ContextVar("photo_files", default=None)


def storage_error(exc: OSError) -> StorageUnavailable | None:
    """The refusal to show for an OSError that means "the disk cannot take files", or None."""
    reason = _STORAGE_ERRNOS.get(exc.errno or 0)
    if reason is None:
        return None
    if reason == "full":
        message = _(
            "照片存储空间已满，本次提交未保存。内容仍保留在手机上，请联系管理员处理后再提交。"
        )
    else:
        message = _(
            "照片存储暂时无法写入，本次提交未保存。内容仍保留在手机上，请联系管理员处理后再提交。"
        )
    return StorageUnavailable(message, reason=reason)


def _quiet_delete(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        # A read-only disk refuses the delete too; the sweep retries when it is writable.
        logger.warning("photo file %s could not be removed", name, exc_info=True)


@contextmanager
def files_removed_on_failure() -> Iterator[None]:
    """Delete the photo files written inside this block if it ends with an exception.

    Put it *outside* the ``transaction.atomic()`` whose rows reference the files, so a
    failed commit is seen too. Nested blocks hand their files to the enclosing one: the
    files of a savepoint that succeeded go if the outer transaction fails.
    """
    outer = _written.get()
    mine: list[tuple[Storage, str]] = []
    token = _written.set(mine)
    try:
        yield
    except BaseException:
        for storage, name in mine:
            _quiet_delete(storage, name)
        raise
    finally:
        _written.reset(token)
    if outer is not None:
        outer.extend(mine)


def _store(field_name: str, content: ContentFile[bytes]) -> str:
    """Write the file under the field's upload folder; its name, for the row.

    Recorded for ``files_removed_on_failure``. A write that fails leaves nothing: Django's
    file storage does not remove a half-written file (a disk that fills mid-write), so it
    is removed here; a full or read-only disk raises ``StorageUnavailable``.
    """
    field = ReportPhoto._meta.get_field(field_name)
    assert isinstance(field, models_FileField)
    storage = field.storage
    target = field.generate_filename(ReportPhoto(), str(content.name))
    taken = storage.exists(target)  # then the save picks another name; never delete this one
    try:
        name = storage.save(target, content, max_length=field.max_length)
    except OSError as exc:
        if not taken:
            _quiet_delete(storage, target)
        refusal = storage_error(exc)
        if refusal is not None:
            logger.error("photo storage refused a file (%s): %s", refusal.reason, exc)
            raise refusal from exc
        raise
    tracked = _written.get()
    if tracked is not None:
        tracked.append((storage, name))
    return name


def photo_files_sweep(*, older_than: timedelta = timedelta(hours=1), months: int = 2) -> int:
    """Remove photo and thumbnail files that no ``ReportPhoto`` row references and that are
    older than ``older_than`` (younger ones may belong to a transaction still open).

    Only the folders of the last ``months`` months are read: a file is orphaned, if ever,
    when it is written, so older folders need no second look. Returns how many went.
    """
    field = ReportPhoto._meta.get_field("image")
    assert isinstance(field, models_FileField)
    storage = field.storage
    cutoff = time.time() - older_than.total_seconds()
    candidates: list[str] = []
    for folder in _recent_folders(months):
        try:
            root = storage.path(folder)
        except NotImplementedError:
            return 0  # not a local disk: object stores expire uploads by their own rules
        if not os.path.isdir(root):
            continue
        with os.scandir(root) as entries:
            for entry in entries:
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    candidates.append(f"{folder}/{entry.name}")
    removed = 0
    for start in range(0, len(candidates), 500):
        batch = candidates[start : start + 500]
        referenced: set[str] = set()
        for image, thumbnail in ReportPhoto.objects.filter(
            Q(image__in=batch) | Q(thumbnail__in=batch)
        ).values_list("image", "thumbnail"):
            referenced.update((image, thumbnail))
        for name in batch:
            if name not in referenced:
                _quiet_delete(storage, name)
                removed += 1
    if removed:
        logger.info("photo sweep removed %d orphaned files", removed)
    return removed


def _recent_folders(months: int) -> list[str]:
    today = timezone.localdate()
    year, month = today.year, today.month
    folders = []
    for _n in range(max(months, 1)):
        folders += [f"reports/{year:04d}/{month:02d}", f"reports/thumbs/{year:04d}/{month:02d}"]
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return folders


# -- thumbnails -------------------------------------------------------------------------


def photo_make_thumbnail(photo_id: int) -> None:
    """Make the 320 px thumbnail of a photo. Safe to run twice or after the photo is gone."""
    photo = ReportPhoto.objects.filter(pk=photo_id).first()
    if photo is None or photo.thumbnail:
        return
    try:
        with photo.image.open("rb") as f:
            source = Image.open(f)
            source.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            source.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
            # thumbnail() does not decode an image that is already small enough.
            source.load()
            img = _to_rgb(source)
    except FileNotFoundError:
        # The image file was removed (e.g. a cleanup); retrying cannot help.
        logger.warning("photo %s: image file %s missing, no thumbnail", photo_id, photo.image.name)
        return
    data = _fresh_jpeg(img, quality=THUMBNAIL_QUALITY)
    name = f"{PurePosixPath(str(photo.image.name)).stem}.jpg"

    with files_removed_on_failure(), transaction.atomic():
        # Re-read under a lock so two runs at once write one thumbnail file, not two.
        locked = ReportPhoto.objects.select_for_update().filter(pk=photo_id).first()
        if locked is None or locked.thumbnail:
            return
        locked.thumbnail = _store("thumbnail", ContentFile(data, name=name))  # type: ignore[assignment]
        locked.save(update_fields=["thumbnail"])
