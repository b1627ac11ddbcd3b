"""Case photos: uploads are checked, re-encoded without metadata, stored all-or-nothing."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms

from accounts.models import User
from reports.models import Category, PhotoKind, Report, ReportPhoto, State
from reports.photos import (
    photo_ingest,
    photo_make_thumbnail,
    photos_ingest,
    photos_prepare,
    reencode,
    validate_upload,
)
from tests.conftest import City

RED = (255, 0, 0)
BLUE = (0, 0, 255)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def report(city: City, worker: User) -> Report:
    major = Category.objects.create(code="T01", name="市容环境", kind="event")
    minor = Category.objects.create(code="T0101", name="暴露垃圾", kind="event", parent=major)
    return Report.objects.create(
        number="NK20250601-0001", state=State.REPORTED, reporter=worker,
        idempotency_key="photo-test", grid=city.grid, community=city.community,
        street=city.street, district=city.district, category=minor,
        description="路边有垃圾",
    )


def image_bytes(img: Image.Image, fmt: str = "JPEG", **options: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


def jpeg(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = RED) -> Any:
    return upload(image_bytes(Image.new("RGB", size, color)))


def rotated_jpeg_with_gps() -> bytes:
    """Stored sideways (red left, blue right), EXIF says "rotate 90° clockwise to view",
    and it carries the phone's GPS position."""
    img = Image.new("RGB", (200, 100), RED)
    img.paste(BLUE, (100, 0, 200, 100))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Apple"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 6.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (117.0, 10.0, 12.0)
    return image_bytes(img, exif=exif)


def opened(content: Any) -> Image.Image:
    content.seek(0)
    return Image.open(io.BytesIO(content.read()))


def near(pixel: Any, color: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 30 for a, b in zip(pixel, color, strict=True))


# -- re-encoding --------------------------------------------------------------------------


def test_it_turns_an_exif_rotated_photo_upright_and_strips_exif_and_gps() -> None:
    original = rotated_jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    content, width, height = reencode(upload(original))

    img = opened(content)
    assert (width, height) == img.size == (100, 200)
    assert near(img.getpixel((50, 20)), RED)  # the left half is now on top
    assert near(img.getpixel((50, 180)), BLUE)
    assert len(img.getexif()) == 0
    assert img.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    content.seek(0)
    assert b"Exif" not in content.read()
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", str(content.name))


def test_it_makes_a_jpeg_of_a_transparent_png_on_white() -> None:
    img = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    img.paste((0, 0, 255, 255), (20, 0, 40, 40))

    content, _, _ = reencode(upload(image_bytes(img, "PNG"), "photo.png", "image/png"))

    out = opened(content)
    assert out.format == "JPEG"
    assert out.mode == "RGB"
    assert near(out.getpixel((5, 20)), (255, 255, 255))
    assert near(out.getpixel((35, 20)), BLUE)


def test_it_drops_the_colour_profile() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = image_bytes(Image.new("RGB", (32, 32), RED), icc_profile=srgb)

    content, _, _ = reencode(upload(data))

    out = opened(content)
    assert "icc_profile" not in out.info
    assert near(out.getpixel((10, 10)), RED)


@pytest.mark.parametrize(
    ("size", "expected"),
    [((4096, 1024), (2048, 512)), ((1000, 3000), (683, 2048)), ((800, 600), (800, 600))],
)
def test_it_downscales_to_the_longest_side_limit(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    content, width, height = reencode(jpeg(size))

    assert (width, height) == opened(content).size == expected


def test_it_reads_the_longest_side_from_settings(settings: Any) -> None:
    settings.REPORT_PHOTO_MAX_SIDE = 100

    _, width, height = reencode(jpeg((400, 200)))

    assert (width, height) == (100, 50)


# -- refusals -----------------------------------------------------------------------------


def refusal(file: Any) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        validate_upload(file)
    return exc.value


def test_it_accepts_jpeg_png_and_webp() -> None:
    img = Image.new("RGB", (20, 20), RED)
    validate_upload(upload(image_bytes(img)))
    validate_upload(upload(image_bytes(img, "PNG"), "a.png", "image/png"))
    validate_upload(upload(image_bytes(img, "WEBP"), "a.webp", "image/webp"))


def test_it_refuses_a_text_file_named_jpg() -> None:
    err = refusal(upload("这不是照片".encode(), "photo.jpg"))

    assert err.code == "not_image"
    assert "不是有效的图片" in err.messages[0]


def test_it_refuses_a_truncated_jpeg() -> None:
    data = image_bytes(Image.effect_noise((300, 300), 64).convert("RGB"))

    err = refusal(upload(data[: len(data) // 2]))

    assert err.code == "corrupt"
    assert "损坏或不完整" in err.messages[0]


def test_it_refuses_a_file_over_the_size_limit(settings: Any) -> None:
    settings.REPORT_PHOTO_MAX_BYTES = 1024 * 1024
    data = image_bytes(Image.new("RGB", (10, 10)))
    data += b"\0" * (1024 * 1024)  # still a readable JPEG, just too big

    err = refusal(upload(data))

    assert err.code == "too_big"
    assert err.messages[0] == "照片太大（1.1 MB），不能超过 1 MB。"


def test_it_refuses_an_empty_file() -> None:
    err = refusal(upload(b""))

    assert err.code == "empty"
    assert "空文件" in err.messages[0]


def test_it_refuses_an_unsupported_format_and_names_the_accepted_ones() -> None:
    err = refusal(upload(image_bytes(Image.new("RGB", (8, 8)), "GIF"), "a.gif", "image/gif"))

    assert err.code == "unsupported_format"
    assert err.messages[0] == "不支持 GIF 格式的图片，请上传 JPEG、PNG、WebP 格式的照片。"


def test_it_refuses_a_decompression_bomb() -> None:
    # 8000×6000 = 48 MP, a few kB on disk.
    data = image_bytes(Image.new("1", (8000, 6000)), "PNG")
    assert len(data) < 100_000

    err = refusal(upload(data, "bomb.png", "image/png"))

    assert err.code == "too_many_pixels"
    assert err.messages[0] == "图片像素过多（8000×6000），最多 4000 万像素。"


# -- storing ------------------------------------------------------------------------------


def test_it_stores_a_reencoded_photo(report: Report, worker: User, _media: Path) -> None:
    photo = photo_ingest(
        report=report, kind=PhotoKind.REPORT, file=upload(rotated_jpeg_with_gps()),
        uploaded_by=worker,
    )

    photo.refresh_from_db()
    assert (photo.width, photo.height) == (100, 200)
    assert photo.uploaded_by == worker
    name = str(photo.image.name)
    assert re.fullmatch(r"reports/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", name)
    stored = Image.open(_media / name)
    assert stored.size == (100, 200)
    assert len(stored.getexif()) == 0
    assert not photo.thumbnail


def test_it_stores_several_photos(report: Report, worker: User) -> None:
    photos = photos_ingest(
        report=report, kind=PhotoKind.REPORT, files=[jpeg(), jpeg(), jpeg()], uploaded_by=worker
    )

    assert len(photos) == 3
    assert ReportPhoto.objects.filter(report=report, kind=PhotoKind.REPORT).count() == 3


def test_it_accepts_photos_prepared_before_the_transaction(report: Report, worker: User) -> None:
    prepared = photos_prepare([jpeg(), jpeg()])

    photos = photos_ingest(
        report=report, kind=PhotoKind.RESULT, files=prepared, uploaded_by=worker
    )

    assert [p.kind for p in photos] == [PhotoKind.RESULT, PhotoKind.RESULT]


def test_it_refuses_ten_photos_and_writes_nothing(
    report: Report, worker: User, _media: Path
) -> None:
    with pytest.raises(ValidationError, match="最多上传 9 张照片"):
        photos_ingest(
            report=report, kind=PhotoKind.REPORT, files=[jpeg() for _ in range(10)],
            uploaded_by=worker,
        )

    assert not ReportPhoto.objects.exists()
    assert not any(p.is_file() for p in _media.rglob("*"))


def test_it_counts_the_photos_already_on_the_case(report: Report, worker: User) -> None:
    photos_ingest(
        report=report, kind=PhotoKind.REPORT, files=[jpeg() for _ in range(7)], uploaded_by=worker
    )

    with pytest.raises(ValidationError, match="最多上传 9 张照片（已有 7 张）"):
        photos_ingest(
            report=report, kind=PhotoKind.REPORT, files=[jpeg() for _ in range(3)],
            uploaded_by=worker,
        )
    assert ReportPhoto.objects.count() == 7


def test_it_counts_each_kind_of_photo_separately(report: Report, worker: User) -> None:
    photos_ingest(
        report=report, kind=PhotoKind.REPORT, files=[jpeg() for _ in range(9)], uploaded_by=worker
    )

    photos_ingest(report=report, kind=PhotoKind.RESULT, files=[jpeg()], uploaded_by=worker)

    assert ReportPhoto.objects.filter(kind=PhotoKind.RESULT).count() == 1


def test_it_names_the_bad_file_and_writes_none(
    report: Report, worker: User, _media: Path
) -> None:
    files = [jpeg(), upload(b"not an image", "2.jpg"), jpeg()]

    with pytest.raises(ValidationError) as exc:
        photos_ingest(report=report, kind=PhotoKind.REPORT, files=files, uploaded_by=worker)

    assert exc.value.messages[0].startswith("第2张照片：不是有效的图片")
    assert not ReportPhoto.objects.exists()
    assert not any(p.is_file() for p in _media.rglob("*"))


# -- thumbnails ---------------------------------------------------------------------------


def test_it_makes_a_thumbnail_once(report: Report, worker: User, _media: Path) -> None:
    photo = photo_ingest(
        report=report, kind=PhotoKind.REPORT, file=jpeg((1600, 1200)), uploaded_by=worker
    )

    photo_make_thumbnail(photo.pk)
    photo.refresh_from_db()
    first = str(photo.thumbnail.name)
    photo_make_thumbnail(photo.pk)
    photo.refresh_from_db()

    assert first.startswith("reports/thumbs/")
    assert photo.thumbnail.name == first
    assert Image.open(_media / first).size == (320, 240)
    assert len(list((_media / "reports" / "thumbs").rglob("*.jpg"))) == 1


def test_it_skips_the_thumbnail_of_a_deleted_photo(db: None) -> None:
    photo_make_thumbnail(987654)

    assert not ReportPhoto.objects.exists()


# -- bounded decoding -------------------------------------------------------------------


def thin_png(width: int = 1, height: int = 40_000_000) -> bytes:
    """A valid RGB PNG of ``width`` × ``height`` black pixels, ~160 kB on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = 1_000_000
    row = b"\0" * (1 + 3 * width)  # filter byte, then RGB
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row * rows) for _ in range(height // rows))
    idat += compressor.compress(row * (height % rows)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def peak_rss_growth_mb(action: Any) -> float:
    """Run ``action`` and return how far the process's peak RSS rose above where it was."""

    def status(key: str) -> int:
        with open("/proc/self/status") as f:
            match = re.search(key + r":\s+(\d+) kB", f.read())
        assert match is not None
        return int(match.group(1))

    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # Linux: reset the peak (VmHWM) to the current RSS
    before = status("VmRSS")
    action()
    return (status("VmHWM") - before) / 1024


def test_it_refuses_a_one_pixel_wide_png_without_decoding_it() -> None:
    # 1 × 40,000,000 is exactly 40 MP: it passed the pixel check and took 918 MB.
    file = upload(thin_png(), "strip.png", "image/png")
    errors: list[ValidationError] = []

    growth = peak_rss_growth_mb(lambda: errors.append(refusal(file)))

    assert errors[0].code == "aspect_ratio"
    assert errors[0].messages[0] == (
        "图片过于细长（1×40000000），长边不能超过短边的 50 倍。"
    )
    assert growth < 50


def test_it_bounds_the_decoded_size_by_rows_and_bytes_per_pixel(settings: Any) -> None:
    settings.REPORT_PHOTO_MAX_ASPECT_RATIO = 10**9
    file = upload(thin_png(), "strip.png", "image/png")
    errors: list[ValidationError] = []

    growth = peak_rss_growth_mb(lambda: errors.append(refusal(file)))

    assert errors[0].code == "too_big_decoded"
    assert errors[0].messages[0] == "图片解码后过大（约 457.8 MB），不能超过 192 MB。"
    assert growth < 50


def test_it_reads_the_decoded_size_limit_from_settings(settings: Any) -> None:
    settings.REPORT_PHOTO_MAX_DECODED_BYTES = 1024 * 1024
    # 600 × 500 RGB: 500 rows of 600 × 4 bytes plus a pointer: 1.15 MB decoded.
    err = refusal(jpeg(size=(600, 500)))

    assert err.messages[0] == "图片解码后过大（约 1.2 MB），不能超过 1 MB。"


def mpo(first: Image.Image, second: Image.Image) -> bytes:
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def test_it_stores_a_phones_multi_picture_jpeg_as_a_plain_jpeg(
    report: Report, worker: User, _media: Path
) -> None:
    data = mpo(Image.new("RGB", (80, 60), RED), Image.new("RGB", (40, 30), BLUE))
    assert Image.open(io.BytesIO(data)).format == "MPO"

    photo = photo_ingest(
        report=report, kind=PhotoKind.REPORT, file=upload(data, "IMG_0001.jpg"),
        uploaded_by=worker,
    )

    stored = Image.open(_media / str(photo.image.name))
    assert stored.format == "JPEG"
    assert getattr(stored, "n_frames", 1) == 1
    assert stored.size == (80, 60)
    assert near(stored.getpixel((40, 30)), RED)
