// Port of inferbook/calc/vision.py: the tokens one image becomes, by vision-encoder kind.
import {
  GLM4V_MAX_PIXELS, GLM4V_MAX_RATIO, GLM4V_MIN_PIXELS, MOONVIT_PATCH_LIMIT, MOONVIT_SIDE_LIMIT,
} from "./constants.js";
import { roundHalfEven } from "./builtins.js";

/** Glm4vImageProcessor's smart_resize of a still image: [width, height] (vision.py). */
function glm4vResized(vision, factor, width, height, minPixels, maxPixels) {
  if (height < factor || width < factor) {
    const scale = Math.max(factor / height, factor / width);
    [height, width] = [Math.trunc(height * scale), Math.trunc(width * scale)];
  }
  if (Math.max(height, width) / Math.min(height, width) > GLM4V_MAX_RATIO) {
    throw new Error(`the image's aspect ratio exceeds ${GLM4V_MAX_RATIO}, which the GLM-4V processor refuses`);
  }
  const t = vision.temporal_patch_size ?? 2;
  let hBar = roundHalfEven(height / factor) * factor;
  let wBar = roundHalfEven(width / factor) * factor;
  if (t * hBar * wBar > maxPixels) {
    const beta = Math.sqrt(t * height * width / maxPixels);
    hBar = Math.max(factor, Math.floor(height / beta / factor) * factor);
    wBar = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (t * hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (t * height * width));
    hBar = Math.ceil(height * beta / factor) * factor;
    wBar = Math.ceil(width * beta / factor) * factor;
  }
  return [wBar, hBar];
}

/** Tokens of one `width` x `height` image, by kind (vision.py). */
export function imageTokens(vision, width, height, minPixels = null, maxPixels = null) {
  if (width < 1 || height < 1) throw new Error("an image's width and height must each be at least 1 pixel");
  if (vision.kind === "siglip") return vision.tokens_per_image;
  const factor = vision.patch_size * (vision.spatial_merge_size || 1);
  if (vision.kind === "glm4v") {
    const [w, h] = glm4vResized(vision, factor, width, height, minPixels ?? GLM4V_MIN_PIXELS, maxPixels ?? GLM4V_MAX_PIXELS);
    return Math.floor(h / factor) * Math.floor(w / factor);
  }
  if (vision.kind === "moonvit") {
    const p = vision.patch_size, side = MOONVIT_SIDE_LIMIT * p;
    const s1 = Math.sqrt(MOONVIT_PATCH_LIMIT / (Math.max(1, Math.floor(width / p)) * Math.max(1, Math.floor(height / p))));
    const scale = Math.min(1, s1, side / width, side / height);
    const w = Math.min(Math.max(1, Math.trunc(width * scale)), side), h = Math.min(Math.max(1, Math.trunc(height * scale)), side);
    return Math.ceil(h / factor) * Math.ceil(w / factor);
  }
  if (vision.kind === "pixtral") {
    const r = Math.max(1, Math.max(width, height) / vision.image_size), f = (x) => Math.max(1, Math.floor(x / r)) - 1;
    const rows = Math.floor(f(height) / factor) + 1;
    return rows * (Math.floor(f(width) / factor) + 2) - 1;
  }
  let hBar = Math.max(factor, roundHalfEven(height / factor) * factor);
  let wBar = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (maxPixels != null && hBar * wBar > maxPixels) {
    const beta = Math.sqrt(height * width / maxPixels);
    hBar = Math.max(factor, Math.floor(height / beta / factor) * factor);
    wBar = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (minPixels != null && hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    hBar = Math.ceil(height * beta / factor) * factor;
    wBar = Math.ceil(width * beta / factor) * factor;
  }
  return Math.floor(hBar / factor) * Math.floor(wBar / factor);
}
