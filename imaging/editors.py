"""Which editor makes the picture (STYLE.md: one small interface, chosen by settings).

- `local` (default): the Pillow transforms of imaging/transforms.py, nothing leaves the machine.
- `openai`: the cartoon intervention is redrawn by an OpenAI-compatible image-edit model
  (DIYMOD_OPENAI_IMAGE_MODEL) when OPENAI_API_KEY is set; every other intervention (blur,
  pixelate, warning card, grayscale) stays local, where it is exact and instant.

A model failure never fails the job: the local cartoon is used and the reason is kept on the job
(`error`, visible in the admin and `manage.py image_jobs`) and logged.
"""

from __future__ import annotations

import base64
import binascii
import logging
import warnings
from dataclasses import dataclass
from io import BytesIO

from django.conf import settings
from PIL import Image

from diymod.openai_client import ModelError, model_call, openai_client
from imaging.transforms import (
    CARTOON,
    TransformedImage,
    image_encode,
    image_transform,
    image_upright,
    intervention_normalise,
)

logger = logging.getLogger(__name__)

# Upload at most this long a side: the model redraws at ~1024 px anyway, and we scale back.
UPLOAD_MAX_SIDE = 1024
EDIT_PROMPT = (
    "Redraw this picture as a soft, flat-colour cartoon illustration with simple shapes. "
    "Anything showing {topics} must become unrecognisable: abstract it into plain shapes or "
    "leave it out. Keep the rest of the scene, its layout and colours. Add no text."
)


@dataclass(frozen=True)
class EditedImage:
    image: TransformedImage
    note: str = ""  # why the intended editor was not used ("" when it was)


def image_edit(*, image: Image.Image, intervention: str, filter_texts: list[str]) -> EditedImage:
    """The job's result picture, from the configured editor (see the module docstring)."""
    if intervention_normalise(intervention) == CARTOON and openai_editor_enabled():
        try:
            return EditedImage(openai_cartoon(image=image, filter_texts=filter_texts))
        except ModelError as error:
            note = f"openai image edit failed ({error.reason}): local cartoon used"
            logger.warning("%s: %s", note, error)
            return EditedImage(image_transform(image=image, intervention=CARTOON), note)
    return EditedImage(image_transform(image=image, intervention=intervention))


def openai_editor_enabled() -> bool:
    return settings.DIYMOD_IMAGE_EDITOR == "openai" and bool(settings.OPENAI_API_KEY)


def openai_cartoon(*, image: Image.Image, filter_texts: list[str]) -> TransformedImage:
    """Ask the image model for a cartoon redraw; ModelError on any failure. The answer is
    scaled to the input's size and re-encoded by us (dimensions kept, no metadata)."""
    upright = image_upright(image)
    upload = upload_png(upright)
    prompt = EDIT_PROMPT.format(topics=topics_phrase(filter_texts))
    model = settings.DIYMOD_OPENAI_IMAGE_MODEL
    timeout = settings.DIYMOD_OPENAI_IMAGE_TIMEOUT_SECONDS

    def call(_chat_timeout: float) -> object:
        # The chat timeout (a few seconds) is far too short for an image model.
        try:
            return openai_client().images.edit(
                model=model,
                image=("image.png", upload, "image/png"),
                prompt=prompt,
                timeout=timeout,
            )
        except ValueError as error:  # an answer that is not JSON, or not the expected shape
            raise ModelError(
                f"Unreadable image model answer: {error}", reason="bad_answer"
            ) from None

    response, _attempts = model_call(call, max_retries=0)
    edited = model_image_decode(response)
    edited = edited.convert("RGBA" if upright.mode == "RGBA" else "RGB")
    if edited.size != upright.size:
        edited = edited.resize(upright.size, Image.Resampling.LANCZOS)
    if upright.mode == "RGBA":  # keep the original's transparency exactly
        edited.putalpha(upright.getchannel("A"))
    return image_encode(edited)


def topics_phrase(filter_texts: list[str]) -> str:
    topics = [" ".join(text.split()) for text in filter_texts if text.strip()]
    return "; ".join(f'"{topic[:100]}"' for topic in topics[:10]) or "the unwanted subject"


def upload_png(image: Image.Image) -> bytes:
    upload = image.copy()
    upload.thumbnail((UPLOAD_MAX_SIDE, UPLOAD_MAX_SIDE))
    buffer = BytesIO()
    upload.save(buffer, "PNG")
    return buffer.getvalue()


def model_image_decode(response: object) -> Image.Image:
    """The first image of an images API answer (base64 only: a URL answer would be another
    fetch from a host we do not allow)."""
    try:
        encoded = response.data[0].b64_json  # type: ignore[attr-defined]
    except (AttributeError, IndexError, TypeError):
        raise ModelError("The image model answered no image", reason="no_image") from None
    if not encoded:
        raise ModelError("The image model answered no base64 image", reason="no_image")
    try:
        data = base64.b64decode(encoded, validate=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            edited = Image.open(BytesIO(data))
            if edited.width * edited.height > 4096 * 4096:
                raise ModelError("The image model answered a huge image", reason="bad_image")
            edited.load()
    except ModelError:
        raise
    except (binascii.Error, ValueError, OSError, Image.DecompressionBombWarning) as error:
        message = f"The image model answered an unreadable image: {error}"
        raise ModelError(message, reason="bad_image") from None
    return edited
