"""Image pre-flight: every bad image gets its own message and no request; fixable ones are fixed only
with consent, and the exact change is reported."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from kling_helpers import isolated_dirs, make_generator, portrait_320, render_cache, simulator  # noqa: F401
from navtalk_desktop.core.errors import Remedy
from navtalk_desktop.core.jobs import JobStore
from navtalk_desktop.core.kling.errors import ImagePreflightError
from navtalk_desktop.core.kling.generation import GenerationRequest
from navtalk_desktop.core.kling.preflight import MAX_BYTES, prepare_image


def _save(img: Image.Image, path, fmt=None, **kw):
    img.save(path, fmt, **kw)
    return path


def _noise_png(path, side=2000):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(path, "PNG", compress_level=1)
    return path


def _bad_images(tmp_path, portrait):
    face = Image.open(portrait).convert("RGB")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(portrait.read_bytes()[:200] + b"\x00garbage" * 50)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    gif = tmp_path / "animated.gif"
    frames = [face.resize((320, 320)), face.resize((320, 320)).rotate(5), face.resize((320, 320)).rotate(10)]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture\nreally, it is text\n")
    return {
        "corrupt": (corrupt, r"corrupt\.png is a corrupt or truncated image|corrupt\.png is not a readable image"),
        "zero bytes": (empty, r"empty\.jpg is empty \(0 bytes\)"),
        "299 px": (_save(face.resize((299, 400)), tmp_path / "small.png"),
                   r"small\.png is 299×400 px; Kling needs both sides to be at least 300 px"),
        "1:3 aspect": (_save(face.resize((300, 900)), tmp_path / "tall.jpg", quality=90),
                       r"tall\.jpg has an aspect ratio of 1:3\.00 \(300×900 px\); Kling accepts 1:2\.5 to 2\.5:1"),
        "12 MB": (_noise_png(tmp_path / "huge.png"), r"huge\.png cannot be uploaded as is: it is 1[12]\.\d MB, "
                                                      r"Kling accepts at most 10\.0 MB$"),
        "animated GIF": (gif, r"animated\.gif is an animated GIF \(3 frames\); Kling needs one still JPG or PNG"),
        "text named .png": (text, r"notes\.png is not an image: it contains text \(the '\.png' name is misleading\)"),
    }


def test_each_bad_image_gets_a_specific_message_and_no_request(tmp_path, portrait_320, simulator, isolated_dirs):
    gen = make_generator(simulator)
    bad = _bad_images(tmp_path, portrait_320)
    assert (tmp_path / "huge.png").stat().st_size > MAX_BYTES
    messages = set()
    for name, (path, pattern) in bad.items():
        with pytest.raises(ImagePreflightError, match=pattern) as err:
            gen.generate(GenerationRequest(image=path, output=tmp_path / f"{name}.mp4"))
        messages.add(str(err.value))
        assert "--" not in str(err.value)  # facts only: each front end words the remedy (core/errors.Remedy)
        if err.value.fixable:
            assert err.value.remedy == Remedy.FIX_IMAGE and err.value.facts["fix"].startswith("convert it")
    assert len(messages) == len(bad)  # all different
    assert simulator.stats.api_requests == 0 and simulator.stats.create_requests == 0
    assert JobStore().list() == []  # no job row either


def test_webp_bmp_need_consent_then_convert_to_png(tmp_path, portrait_320):
    face = Image.open(portrait_320)
    for fmt, ext in (("WEBP", "webp"), ("BMP", "bmp")):
        path = _save(face, tmp_path / f"face.{ext}", fmt)
        with pytest.raises(ImagePreflightError, match=fr"it is {fmt}, Kling accepts JPG or PNG only$") as err:
            prepare_image(path)
        assert err.value.fixable
        prepared = prepare_image(path, fix=True)
        assert prepared.format == "PNG" and (prepared.width, prepared.height) == (320, 320)
        assert f"converted {fmt} → PNG" in prepared.changes
        assert Image.open(io.BytesIO(prepared.data)).format == "PNG"


def test_exif_rotation_is_applied_with_fix(tmp_path, portrait_320):
    face = Image.open(portrait_320).convert("RGB").resize((400, 320))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    face.save(path, "JPEG", quality=95, exif=exif.tobytes())
    with pytest.raises(ImagePreflightError, match="EXIF orientation says rotated 90° clockwise"):
        prepare_image(path)
    prepared = prepare_image(path, fix=True)
    assert (prepared.width, prepared.height) == (320, 400)
    assert any("applied EXIF orientation 6" in c and "320×400 px" in c for c in prepared.changes)
    out = Image.open(io.BytesIO(prepared.data))
    assert out.size == (320, 400) and out.getexif().get(0x0112, 1) == 1


def test_png_alpha_is_flattened_with_fix(tmp_path, portrait_320):
    rgba = Image.open(portrait_320).convert("RGBA")
    alpha = np.full((320, 320), 255, np.uint8)
    alpha[:40, :40] = 0
    rgba.putalpha(Image.fromarray(alpha))
    path = _save(rgba, tmp_path / "cutout.png")
    with pytest.raises(ImagePreflightError, match="it has transparent pixels"):
        prepare_image(path)
    prepared = prepare_image(path, fix=True)
    assert "flattened transparent pixels onto white" in prepared.changes
    out = Image.open(io.BytesIO(prepared.data))
    assert out.mode == "RGB" and out.getpixel((5, 5)) == (255, 255, 255)
    opaque = _save(Image.open(portrait_320).convert("RGBA"), tmp_path / "opaque.png")
    assert prepare_image(opaque).changes == []  # an unused alpha channel is harmless: uploaded as is


def test_too_many_bytes_is_reencoded_under_10mb(tmp_path):
    path = _noise_png(tmp_path / "huge.png")
    prepared = prepare_image(path, fix=True)
    assert len(prepared.data) <= MAX_BYTES
    assert prepared.format == "JPEG"
    assert "converted PNG → JPEG (quality 92)" in prepared.changes
    assert any(c.startswith("file size 1") and c.endswith("MB") for c in prepared.changes)


def test_heic_without_decoder_gets_a_specific_message(tmp_path):
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200)
    with pytest.raises(ImagePreflightError, match="HEIC/HEIF image could not be decoded; export it as JPG or PNG"):
        prepare_image(path, fix=True)


def test_good_image_is_uploaded_unchanged_as_raw_base64(portrait_320):
    prepared = prepare_image(portrait_320)
    assert prepared.changes == [] and prepared.data == portrait_320.read_bytes()
    text = prepared.base64()
    assert not text.startswith("data:")
    assert base64.b64decode(text, validate=True) == prepared.data


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImagePreflightError, match="image not found"):
        prepare_image(tmp_path / "nope.png")
    with pytest.raises(ImagePreflightError, match="is a folder"):
        prepare_image(tmp_path)


def test_oversized_picture_is_a_note_and_downscaled_only_with_fix(tmp_path):
    path = tmp_path / "poster.png"
    Image.new("RGB", (5000, 4000), (120, 90, 80)).save(path)
    prepared = prepare_image(path)
    assert prepared.changes == [] and prepared.data == path.read_bytes()  # Kling takes it: uploaded as is
    assert prepared.notes == ["5000×4000 px is more than Kling uses (≤1080p output); fixing it would downscale it "
                              "to at most 4096 px"]
    fixed = prepare_image(path, fix=True)
    assert (fixed.width, fixed.height) == (4096, 3277)
    assert fixed.changes[0] == "downscaled 5000×4000 → 4096×3277 px"


def test_real_heic_photo_is_converted_with_consent(tmp_path, portrait_320):
    path = tmp_path / "IMG_0002.HEIC"
    path.write_bytes(base64.b64decode("".join(HEIC_320)))
    with pytest.raises(ImagePreflightError, match=r"it is HEIC, Kling accepts JPG or PNG only$") as err:
        prepare_image(path)
    assert err.value.fixable
    prepared = prepare_image(path, fix=True)
    assert prepared.format == "PNG" and (prepared.width, prepared.height) == (320, 320)
    assert prepared.changes == ["converted HEIC → PNG", "file size 5 KB → " + prepared.changes[1].split("→ ")[1]]
    decoded = np.asarray(Image.open(io.BytesIO(prepared.data)).convert("RGB"), dtype=float)
    original = np.asarray(Image.open(portrait_320).convert("RGB"), dtype=float)
    assert np.abs(decoded - original).mean() < 12  # the same face, not a blank or garbled frame


#: The sample portrait at 320x320 as an HEIC (HEVC in HEIF, as iPhones write), made once with pillow-heif
#: at quality 30, so the test needs no HEIF encoder.
HEIC_320 = (
    "AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAVdtZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAAAAAAAAAAAAAAACJpbG9j"
    "AAAAAERAAAEAAQAAAAABewABAAAAAAAAE4cAAAAjaWluZgAAAAAAAQAAABVpbmZlAgAAAAABAABodmMxAAAAAA5waXRtAAAAAAABAAAA12lw"
    "cnAAAAC4aXBjbwAAAHlodmNDAQNwAAAAkAAAAAAAPPAA/P34+AAADwNgAAEAGEABDAH//wNwAAADAJAAAAMAAAMAPLoCQGEAAQAsQgEBA3AA"
    "AAMAkAAAAwAAAwA8oAoIBQWW6kkprm4CGgwIAAADAMgAAAMACEBiAAEAB0QBwXKwYkAAAAATY29scm5jbHgAAQANAAaAAAAAFGlzcGUAAAAA"
    "AAABQAAAAUAAAAAQcGl4aQAAAAADCAgIAAAAF2lwbWEAAAAAAAAAAQABBIECAwQAABOPbWRhdAAAE4MoAa8ZKLYKriGs/YCz5sC/Q3Wvxlr1"
    "iDZRnXkNs5TTLpukz6/KALX4bDB5qLqWlLWaFfDRnsv3qfTApxfMKCkT0LNhvIhOQyGnRPbrqKpssmNZNHlNb3WMOPc8PHTGRBYcrQvmOEFC"
    "xwCfJiTW+cpiQlnYtuF1Gd7uSP3hIpFn1qmuDLA8OCnIglN03zPKi9w21RmFd5y0GFeIUMublFdqSywYWr9xBaEXvvqpvA2HvfcIP6N/LJhk"
    "iidnOv2HG8mtFln3UeyBZgA14/Hr1zhw4VtseeJ4B2WMUBd+tMy9w96a1C3c3xLLnaAHVWvw9YEj8BwQRQeCLUmRUq0NZZRMpIo9uVofsxJR"
    "hAYoT6H8u3Aqi1w+4qo332feLMR5g99UpBVDG13a2NcxPg/cEldRPvuFgM9mnyv710jvdHlN6gLsTa+3++UmNoTCdgzIJjB2a9DWIiM8eG8n"
    "zZY7G9bkm3joyUwFKWLcHGqNwct3qH+yKMChaC+JYkN7k+yzTWIfMU2hpsX69umDCUh/wSmn3wEwk7j1Tqs1hjaSuuyDFkWJF56nfrQQKhKE"
    "1BZtY1pZRyOaZhnk6pdetNvEJkM/+8SzWgD9074eoXL0V9joMPDR+IgekwLKlmPm+pnM4vQ2U8IlMw7bQ2NDQqTpfrhxur41tg5eoe5RD08x"
    "r8wgO7jw3vD9aF0/eShK0KNyR7LDE0k6h1rAuwT9eqN3WRFQ8hL15p/3FZA/hoPP+VZ60mk4p4xq9cToNvh6XgZ6R20smXgMna5IZsJtGqHq"
    "qwGiZRhfG5BbbO/vNMwYYKrL4EZ9mWNiN3j9weiRZNzmkg9FdaHpBI7FSS3viX/Aaswu/V+h/p8NzzXg315cIoyRkyx++P3ceI1dg7S9wwxI"
    "6SexZ+wNiykDxpGkJzD8N3GWOK6Js4h2wQyHSBJA2uX3NqDaSL7zQjoj5lPXU4/g2+/Irh/jIUea9KhuZrMMD6sucbm63BFAZoO/JOxuYsNB"
    "V9h1oPphxFjeEvYCh8rtYE+qQeiwYNSZ+dINDp2I/8/kqIC9HdDztSUHUth4EPVX3vECXVd3EsUIcOeXP8i3skB5+wPn6L/5pT2W0zRwcEpT"
    "gQP0JWtwFFAgAwCnObkhd742PnBEg5PkedgrdajZpJHDD6GOQ9gw9VP3RsRNbcl5LmyS1NhAgUS2DG3jBp9bFRpk0zY31CC6S4+f8e97+ILN"
    "0q0z/U8YDN1qHGjGQV8D44v9TZ7F6co0TUQG1mxPrIk8iQjIk/TCvCUNn1tt5LrwtwM9aRBQmN5O1lnjWBMn/TYx8mdH+vQoFWUewh+fTOMZ"
    "V4SBAIX4afu6O8h5x0xekbAea9vCfoJsF7YW8OvtzDibxhvbAw1oU7Qtv21z40pOT9ro1H2cZQiewq6Wf4g2PyyQHV0E1lh3ZaUcgceKCtu3"
    "mkFIZTQWgNPdGjW4VaXiXCJpCwB1tTP/zP4VZlsTsQE4eaBlTtKxPI0cKPZ5xkQVhrOdBmaXOAxaVcOPlBlaiXmxFyLHfGicNt1oyh4/SyQD"
    "+I8Bd/9kxp+SZa+ywfZSXL0ESx8ftQsmSbYFHM66bHxwfevB920/SfJ3BU3k3blxLqLp08VEcNX0duV0mpcj9ksZFiAciQABQkN1vYOjoOIW"
    "a+EAuD62C8uSI7AQ3Sh/3BRUseeNplRx6jcgqLMmyc886w6vSwgkjnO94EGifWHYqjbL3vbR0ynGJjELSA+YjVQydryhGVBgZ8MPzdMVz7YU"
    "hQ/gurqtEXKqDFnwtcW6I6ETbATlLqTHFhgtooFD1mrys9QC9KTHjmePb1g7XmvppVyE/7E9bJCO9bc+T01mcIT6btWFt0yvkg76dZCTXHZ3"
    "fesyG/xFxBDcJIu4V6Y0pjvf1U4Ws8f/HrZmd1nCN+Snd69DsHt17krT5vQ/6RdDbQvsUBVMfzKsdMBP/0dIxoeQMwFwjj5GPpGY5kPgnjtR"
    "lp0HdggGIPLH36VoVRe+m0etGeE7nBf+6nFKaRfpk3yKH/r9wBgt2/TbN5kqcBSGIGvOojj0mVCzBGCc543u+8p2EjrPLZ4/UpHEyLg2gG0p"
    "1hzUSTR3W2O5x/mNBK6UVk5Rqgj5E7tC5dUHgIEg2nRD+S/ye9yzrraQcIyUN4Q6nQ0Oxbmr+aC4aXno7OAUdWxiSeO/c1zOZ4DLoGgm4i5J"
    "zS1Worznwe57QWW2307WBpp/cb/VM/JLFGe2aJ5dP0ev0pvXJOYw7WbMG+SK422pYNVMw5IaH2VdACkaVw0SDFutvcOxvxTQ06AhEN+Z1E06"
    "r7+99NPX+KWd9ns6yfk3SW41TLusP/CXWCFtwWnQpN8CbHAZga5nOFEhvNHRrCuklaTraIe7JL7DEVE4PBsPcSY2KKpg9S/QAhvAfUp5Cspe"
    "01nou0T39vjrZWKNfLPPyQbgDVc5JdUXBRKQsUNJqbnin8tus2D+Nqg1MjkGpwGuTk9pzMGbWvruhMpAuGmzhIARaAtDvNkwfqlf4rstbjO2"
    "G8NvtHDQIVhKkzDbEZEcWUo1QOw835A1g3EsQtrMeN8kBf0JYLcUizqHFRioa0nNelH4iNSTh71QmgnjgCgImZcHDFgnp8pkaTUjDYKeGJiG"
    "i8YLZSiP5S2eLANNKvBfKn4f57tOVzsCL/7fqusgAd3xln/RR+LGYyP9DrbE6RuZBh8ZE0qRo+ap6glaFeDaQKp0l2kc4EkDxn1Cj9EddDNz"
    "6zbkoileVeweKX3uX7QDhuEs8zcE6wBCQL7Bmhx4Re3VAXnijnx3uic4HESgqR1/x4J5ogY23ONZhKilQmKydVQdb1F6UBnux3y3ipDPZlJO"
    "zqSOm/Yo7YUYvzhEQ/GsCBzwxj/Xe8qaPHZJukBb5RFh88M2HqpWZxDnPfqUE1tKw4x+sX3p3ESDmS8zs5ACu77AZ6IZcIR8ZKoPaLYleBQT"
    "QLvGkdGQIEJjgJZCPL/NAG60ebqQsOxsQlxWrLF9I9WtHiPSRBUEljDoYy6iL2ZfZQVPGPSEEFMfjg2keG40fI/7bF632x8+YxPmxszaUmZp"
    "Jt9aLOmwNVyfYWVHxV/vXeAv6UV6iJhhqWKXIsDpQSsHE4xLci6hy/KU4qsyvXhq/5tQK5Wza6ld003ZX1SIzyyiIQLdg7abKYB7PfQp+9Au"
    "2KaM3Y333e0vTHwSAHb2aDaNEGJImHTQKkoiNQakZ36sCPzBmRKIr1diAdEtnsuY+Ocf0GOFJ+pkeKg85roLNRTyYW81UvsGTenNmbR4w2Av"
    "zMo+kFxh1Jz1iBZEK+cn9A+waYVNlCRecHVheq3rwtpfMyb5H+4TDP0JWpWFOOM0k1ZjJtmYJ9P+3oYE3Mz2bqjc/TAm2eCy+iRj5xP4H61Y"
    "jffyuSFx5s/ffQY/Fe7iDJq9cpBCXA1dc2XviHhGU6nxU+J0ombU2Yx0/GnrTUKLkAdXSThPcejlZMFyiXpoe2z0VAfOuMvLPjr/vq6Ubkyo"
    "cp/wSMzj49CsvCd2PoG82YeDnmhaeVy79nCksMHR9ZX562XEBlSDWUHKpj9N5N7AAMdqXakujkYFCV47Fp/cuTJeFwslA76CLOA7ksYd2lyL"
    "+4Q9NXbyNkVCdIS+BiWHjgKVHXpLXVFFOt9l/8loK+gEhHXQayuhwHzVinCChV7BLGxWwMR3oY4kVqdtiITeJ1dAyB5e6WBh9KY9H08H85ob"
    "dCYovhRNbHPplYix92aZUNPNaTp68Te6QUbjoOslCRlWeaUJGSK/hgMYJ+xWR6Vp3shA46/3fhkj+TtHCuxHx4P7XdECKiNa/ziE6FRsvIMq"
    "eHt9djUfCniiW+t9o5ycQ9p9IfEfDhk4f7Q3Qh0bt0Ucfy0EwEr5BC6VwviEzofD/A+HDoQt1ZkuDUMy3k/S7cpR48t+yi1hvTvYybtYzTJT"
    "K8QoECL2udkjCqbKYEM8OazKOPy96JnhkHZFOnucXfs5Qym2/UdC34qGXTkKu/+4co40CpnycxQ3IDy/AibJHB9bPWy2ncJfcy5nxJBRsrQH"
    "6Ulw4hSTwFNsUUtCGDuaa8DL0wI6NWq7C3GuEywC+Zppi+MuHf6OL6FTKR/iJ9yDcUIG6OIQTbqSKkrjL5/Tq2X0zNa+9GQyq35f+Ais27LA"
    "lmRcGJ92Njm8cqBYzg2OvERGkufPg9bc4wdzg3GvJPZd5CWpTToHl3wfT2nRr2sj8kouW+btGzN/CMRYvEXU3znuHej+hhEy6lsTXUG2VQ8Q"
    "0bwhTHjpA9X3uE2o7lW+//zKYrQ1YMbSWaMhBXF4EHaPgiLXBW0VkVIyaO4DHaNB5vD0fvEtqNVWLfNy/bEm+LS1QvyVCE/fxQFD1JURCCY0"
    "xHUg5y4As0mS2EDg58JBDMpYyD2OGplfpHVGoriJJv397UPaL9BMDyM3Hf0k5JbNFUosav8RsgIUyCFQo6nJnGnseAbKei/vvHkq3Nkirldf"
    "8fWURvMvDUBaC7xoUtSf4DILbICbhrHEIN07lXaOB5mnOdPoDRLySkFF9moBgmFqz1d3/VrGxdWPmWbTgxCYw559jmgPeWX688f0eurq7g3h"
    "NqYqes2+YfdR2D9eHMrSfdiSA6s54ZQNHRIbAQBw5ekNaD0vLkxOe8CBLcU4Aodkyab5GCGiuWsXpFth86TrBZuK9YJwDw53bfVjc7zWh54c"
    "QJxM+b02czl1BRw3RPlKyGLyk/kIWuUY91ypw41fFbIEkKw+DlApEsjdUtalN9ZaZnF0QOQVpwTr5IuNlbUehAgSTuVghRTRHJ0ov4vnQwgN"
    "/M5roEyfh99z+/mq8RZ2xh8MmLpwFvFAX4u4J1vWs+N6EcdG9b5tt4RVNxWvZwSmRPmpWBxB//BazChvx8dBHL/2K/HfNpN4fM/k2m3Zt2Xp"
    "CBb4oPmCIOqi1zOzvdjryKzOmZVA7NTMBjaYgzUJ2alHL7JCugbEr3i8lQTGH2Qs1ClqR8cYPw3rHnwUL39UYADMmYIyi7J+2aS9AifPQeDf"
    "porCPEZXDVLniOGd0krl6h+yP7eBgcIbrsjDdS1/gvI1li++v3cIIxEGy0cnSVw9gNjesrzrA4b5aowsiEM8tgnKLPh9sdIpG5IOcGA9oXpE"
    "yAgyC8QcVYHqLo4z8IfCKFkcNivqE6nRVhF9TEFyTUNUjkY8+rA3DeXlIEYt4yP4gL80m8rXUX9qbON7tF/7U0WGisCSwf8YGi4d2pyncbH8"
    "hWhq6VzqmHW2szmkBKTTaZ0STgVnWi4GXsUyfPvfcIWtqpn3CD+5bVXvbgYHlmrw4D0cKwHSTnM9+hKKDyy96h7szJqX9HcAlp+laVbA1unb"
    "/loEKnbeVP9nEZ6jkVNQ13z6vokp6+AW40jLWxcay8eza6Rq3i8qQcu/L4+8khFm7SSze6qZW7AxnPhD5JfnylHwuN6cgJwBm0j9xRgZrAUh"
    "N9Psm/lLVSmEYK8ntBvi2txvnjp6Ue5IM2SvBbJ5hXOucDWU/+lU6IW87ZTZ1+baDdAonxp1k+0V18dqV5ytilg2h43mPd/Fek6yFXXTdpEM"
    "H8Z/SYGpYLi+PcV5GwhOTf4qCE1irRuYTvikabCHAUWKMZHMV/hC7eN8QOrCqgvvJdaRQo70KMltpnSs1U2fc78qu5Ogg4EL1jVhf9gcImKF"
    "wnj35uGr7Npglb+a8O1JOPsWWfXonHyymOJ1G6VLVzY1/pjhLpagKV/EdccvoTvvpKQbPT++D6/u8M0KdX1VBefHgvq2D/8Vgf69DWm/3frw"
    "f+WKgaC2bOMts55ch1xEkecrz/h8MDXJq//gclST5vO79TvB/62dQsqMdJ8/Y9mkXXw/MYKonGfEI2VXdUb3WlerozloOV0246QLwHt/F5NG"
    "rUT9uJ5W/XeZQg7oRRrP1y74FGzZ1kxFJFBG6aTMauVJIW+QBB9/wXAkPWqeHJbEMRaWQCm86YBm/70slC9GTLxJJ96Zh4lft7rizHS6BbcA"
    "gWrqfIloLjOcvk3XctQkjIrE5GAA5QIO6iJEhZvpnaI8/GVnKWzm+ESw4RG0pv1lQ39XLRLtP42yiv++va9q1I3IiJOsT2+SI3ALBdJNZKsP"
    "0GnqrAgIYJspfs+rDIS7gGvtDJYJJjp2BHDSFoKiRhKbKRiDP2J5YWDFfOFBtp/C5HrasOIAtK1My8QvQ444lkJGFw6tU+w//CfTnlA+1oOx"
    "C2Ghb86xoAxTG1GTLhWHwmO7/cXlEQpm27lfTcG/iAAGZbfuJkibLJ6tArZWwbVxmluuRxDQ2KJLQ7mi8DkmPWB+E7jUcFFXnzXOqtueTB8V"
    "DDmhUADbWOchxR4q116EJnuPvRsJrJnDys5v4gKDtQ6UQsg6ASb48dJiYwm4ok17H+Jd4feLXbXj2Al86pl5M9jSZhwOBdJUGzfz0jp9ovt+"
    "oFpMDh7p9puwm2A5KJONzao0+/SpgQaqxCRfEQL/FO+o63RPSymGPYxg1MKATelBr3KqiBpNuYNvsqdGxXPaMp34SJgKUP+QtugtaQIEAS4o"
    "8+mp4ZHtgPhAm0un9qPh36XzsQRG6bUOs4QdoX6Oym1bmRGBzIRY5y3d0QZpiN+EEIrn82YoyDBv5JSg2lEUGlrUVmLur0SkUFqeL86Bb64i"
    "diPR3MDERMXJT88CWoTeE4OcsW4Pyqz6vOgRiUBtsEA="
)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_picture_over_the_decode_limit_is_refused_then_scaled_without_a_full_decode(tmp_path, monkeypatch, fmt):
    """The size comes from the header; --fix scales JPEG through libjpeg's reduced decode and other formats
    in an ffmpeg child, so this process never holds the full picture (limit lowered to keep the test small)."""
    from navtalk_desktop.core.kling import preflight

    monkeypatch.setattr(preflight, "MAX_DECODE_PIXELS", 4_000_000)
    path = tmp_path / ("big.jpg" if fmt == "JPEG" else "big.png")
    Image.new("RGB", (3000, 2000), (180, 140, 120)).save(path, fmt)
    with pytest.raises(ImagePreflightError, match="the image is 3000×2000 px; Kling accepts at most ") as err:
        prepare_image(path)
    assert err.value.remedy == Remedy.FIX_IMAGE and err.value.facts["fix"] == "scale it to at most 4096 px per side"
    from PIL import ImageFile

    loads = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: (loads.append(self.size), real_load(self))[1])
    prepared = prepare_image(path, fix=True)
    assert loads  # the spy sees every decode of a file
    assert prepared.width * prepared.height <= 4_000_000 and prepared.width / prepared.height == pytest.approx(1.5, abs=0.01)
    assert (3000, 2000) not in loads  # never decoded at full size in this process
    assert any("3000×2000" in c for c in prepared.changes)
    assert Image.open(io.BytesIO(prepared.data)).size == (prepared.width, prepared.height)
