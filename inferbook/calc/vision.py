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
one [IMG_BREAK] token ending each row but the last (the closing [IMG_END] is not counted).

GLM-4.5V and GLM-4.6V (kind glm4v) resize as Glm4vImageProcessor's smart_resize does: an image with a side
under ``patch_size x spatial_merge_size`` is first scaled up (truncating) until both sides reach it, an aspect
ratio over 200 is refused, the sides are rounded to multiples of that factor, and the pixel bounds are checked
against ``temporal_patch_size x H' x W'`` (the image is repeated to fill the Conv3d's frames); the bounds are
the checkpoints' preprocessor ``size`` (shortest_edge 12,544 and longest_edge 9,633,792 pixels in GLM-4.5V and
GLM-4.6V, `GLM4V_MIN_PIXELS` and `GLM4V_MAX_PIXELS`) unless given. Kimi-K2.5 (kind moonvit) resizes as its
processor's navit_resize_image: scaled down (never up; truncating) so the image holds at most
`MOONVIT_PATCH_LIMIT` patches (the sides' whole patches counted) and neither side exceeds
`MOONVIT_SIDE_LIMIT` patches, then padded to multiples of ``patch_size x spatial_merge_size``; one token per
merged cell. The encoder's own compute is not modelled; its weights are (`weights.weight_bytes`)."""

from __future__ import annotations

import math

from ..schema import VisionEncoder

GLM4V_MIN_PIXELS = 112 * 112
"""size.shortest_edge of GLM-4.5V's and GLM-4.6V's preprocessor_config.json (and Glm4vImageProcessor's default):
the fewest pixels (x temporal_patch_size) an image keeps."""
GLM4V_MAX_PIXELS = 14 * 14 * 2 * 2 * 2 * 6144
"""size.longest_edge of GLM-4.5V's and GLM-4.6V's preprocessor_config.json (9,633,792, smart_resize's own default;
the processor class alone would allow 28 x 28 x 15,000): the most pixels (x temporal_patch_size) an image keeps."""
GLM4V_MAX_RATIO = 200
"""The longest aspect ratio Glm4vImageProcessor's smart_resize accepts."""
MOONVIT_PATCH_LIMIT = 16_384
"""in_patch_limit of Kimi-K2.5's media_proc_cfg: the most patches an image is scaled down to."""
MOONVIT_SIDE_LIMIT = 512
"""patch_limit_on_one_side of Kimi-K2.5's media_proc_cfg: the most patches along either side."""


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
    to qwen3-vl, where none applies unless given, and to glm4v, where the checkpoints' preprocessor bounds apply
    unless given)."""
    if width < 1 or height < 1:
        raise ValueError("an image's width and height must each be at least 1 pixel")
    if vision.kind == "siglip":
        return vision.tokens_per_image or 0
    factor = vision.patch_size * (vision.spatial_merge_size or 1)
    if vision.kind == "glm4v":
        w_bar, h_bar = _glm4v_resized(vision, factor, width, height, GLM4V_MIN_PIXELS if min_pixels is None
                                      else min_pixels, GLM4V_MAX_PIXELS if max_pixels is None else max_pixels)
        return (h_bar // factor) * (w_bar // factor)
    if vision.kind == "moonvit":
        p = vision.patch_size
        s1 = math.sqrt(MOONVIT_PATCH_LIMIT / (max(1, width // p) * max(1, height // p)))
        scale = min(1.0, s1, MOONVIT_SIDE_LIMIT * p / width, MOONVIT_SIDE_LIMIT * p / height)
        new_w = min(max(1, int(width * scale)), MOONVIT_SIDE_LIMIT * p)
        new_h = min(max(1, int(height * scale)), MOONVIT_SIDE_LIMIT * p)
        return -(-new_h // factor) * -(-new_w // factor)
    if vision.kind == "pixtral":
        ratio = max(width, height) / (vision.image_size or 1)
        if ratio > 1:
            width, height = max(1, math.floor(width / ratio)), max(1, math.floor(height / ratio))
        rows, cols = (height - 1) // factor + 1, (width - 1) // factor + 1
        return rows * cols + rows - 1
    w_bar, h_bar = resized(vision, width, height, min_pixels, max_pixels)
    return (h_bar // factor) * (w_bar // factor)


def _glm4v_resized(vision: VisionEncoder, factor: int, width: int, height: int, min_pixels: int,
                   max_pixels: int) -> tuple[int, int]:
    """The (width, height) Glm4vImageProcessor's smart_resize gives an image (num_frames and temporal_factor
    both temporal_patch_size, as for a still image)."""
    if height < factor or width < factor:
        scale = max(factor / height, factor / width)
        height, width = int(height * scale), int(width * scale)
    if max(height, width) / min(height, width) > GLM4V_MAX_RATIO:
        raise ValueError(f"the image's aspect ratio exceeds {GLM4V_MAX_RATIO}, which the GLM-4V processor refuses")
    frames = vision.temporal_patch_size
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if frames * h_bar * w_bar > max_pixels:
        beta = math.sqrt(frames * height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif frames * h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (frames * height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return w_bar, h_bar
