"""Image tokens of a vision-language model: how many language-model tokens an image of
W x H pixels becomes, so a prefill can count them with the prompt.

The Qwen2-VL family's image processor (used by Qwen3-VL and Qwen3.5) resizes each side to a
multiple of ``patch_size x spatial_merge_size`` (rounded to the nearest, halves to even, as
Python's ``round``), scales the image down or up when the area falls outside the processor's
``max_pixels`` / ``min_pixels`` (when given), cuts it into patches and merges
``spatial_merge_size^2`` neighbouring patches into one token: an image gives
``(H' / factor) x (W' / factor)`` tokens for the resized ``H' x W'``. The tokens that mark where
an image starts and ends in the prompt are not counted.

Gemma 3 (kind siglip) resizes every image to ``image_size`` square and pools it to a fixed
``tokens_per_image`` (mm_tokens_per_image; pan-and-scan crops are not modelled). Pixtral (Mistral 3)
scales an image down (floor) so neither side exceeds ``image_size``, cuts it into
``patch_size x spatial_merge_size`` cells (a partial cell counts) and gives one token per cell plus
one [IMG_BREAK] token ending each row but the last (the closing [IMG_END] is not counted). The
encoder's own compute is not modelled; its weights are (`weights.weight_bytes`)."""

from __future__ import annotations

import math

from ..schema import VisionEncoder


def resized(vision: VisionEncoder, width: int, height: int, min_pixels: int | None = None,
            max_pixels: int | None = None) -> tuple[int, int]:
    """The (width, height) in pixels the processor resizes an image to (smart_resize)."""
    if width < 1 or height < 1:
        raise ValueError("an image's width and height must each be at least 1 pixel")
    factor = vision.patch_size * (vision.spatial_merge_size or 1)
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if max_pixels is not None and h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif min_pixels is not None and h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return w_bar, h_bar


def image_tokens(vision: VisionEncoder, width: int, height: int, min_pixels: int | None = None,
                 max_pixels: int | None = None) -> int:
    """Language-model tokens of one image of ``width`` x ``height`` pixels (the pixel bounds apply
    to qwen3-vl only)."""
    if width < 1 or height < 1:
        raise ValueError("an image's width and height must each be at least 1 pixel")
    if vision.kind == "siglip":
        return vision.tokens_per_image or 0
    factor = vision.patch_size * (vision.spatial_merge_size or 1)
    if vision.kind == "pixtral":
        ratio = max(width, height) / (vision.image_size or 1)
        if ratio > 1:
            width, height = max(1, math.floor(width / ratio)), max(1, math.floor(height / ratio))
        rows, cols = (height - 1) // factor + 1, (width - 1) // factor + 1
        return rows * cols + rows - 1
    w_bar, h_bar = resized(vision, width, height, min_pixels, max_pixels)
    return (h_bar // factor) * (w_bar // factor)
