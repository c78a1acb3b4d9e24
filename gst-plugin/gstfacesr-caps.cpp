/* facesr caps negotiation: the output is output-scale times larger than the input (twice as wide side
 * by side), and set_info reads the negotiated geometry back from the caps. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfacesr-private.h"

GST_DEBUG_CATEGORY_EXTERN (gst_facesr_debug);
#define GST_CAT_DEFAULT gst_facesr_debug

/* ------------------------------------------------------------------------------------------- */
/* Caps: the output is output-scale times larger, and twice as wide side by side.               */

static gboolean
scale_dimension (GValue * dest, const GValue * src, gint factor, gboolean multiply)
{
  if (G_VALUE_HOLDS_INT (src)) {
    gint v = g_value_get_int (src);
    if (!multiply && v % factor != 0)
      return FALSE;
    g_value_init (dest, G_TYPE_INT);
    g_value_set_int (dest, multiply ? (gint) MIN ((gint64) v * factor, G_MAXINT) : v / factor);
    return TRUE;
  }
  gint lo = 1, hi = G_MAXINT;
  if (GST_VALUE_HOLDS_INT_RANGE (src)) {
    lo = gst_value_get_int_range_min (src);
    hi = gst_value_get_int_range_max (src);
  }
  if (multiply) {
    lo = (gint) MIN ((gint64) lo * factor, G_MAXINT);
    hi = (gint) MIN ((gint64) hi * factor, G_MAXINT);
  } else {
    lo = MAX (1, (lo + factor - 1) / factor);
    hi = MAX (1, hi / factor);
  }
  g_value_init (dest, GST_TYPE_INT_RANGE);
  if (lo == hi)
    gst_value_set_int_range_step (dest, lo, hi + 1, 1);
  if (lo >= hi) {
    g_value_unset (dest);
    g_value_init (dest, G_TYPE_INT);
    g_value_set_int (dest, lo);
    return TRUE;
  }
  gst_value_set_int_range (dest, lo, hi);
  return TRUE;
}

GstCaps *
gst_facesr_transform_caps (GstBaseTransform * trans, GstPadDirection direction, GstCaps * caps,
    GstCaps * filter)
{
  GstFacesr *self = GST_FACESR (trans);
  GST_OBJECT_LOCK (self);
  const gint scale = (gint) self->output_scale;
  const gint width_factor = scale * (self->mode == GST_FACESR_MODE_SIDE_BY_SIDE ? 2 : 1);
  GST_OBJECT_UNLOCK (self);
  const gboolean multiply = direction == GST_PAD_SINK;

  GstCaps *result = gst_caps_new_empty ();
  for (guint i = 0; i < gst_caps_get_size (caps); ++i) {
    GstStructure *s = gst_structure_copy (gst_caps_get_structure (caps, i));
    gboolean ok = TRUE;
    const struct { const char *field; gint factor; } dims[] = { {"width", width_factor}, {"height", scale} };
    for (const auto & d : dims) {
      const GValue *v = gst_structure_get_value (s, d.field);
      if (v == NULL || d.factor == 1)
        continue;
      GValue scaled = G_VALUE_INIT;
      if (!scale_dimension (&scaled, v, d.factor, multiply)) {
        ok = FALSE;
        break;
      }
      gst_structure_take_value (s, d.field, &scaled);
    }
    if (ok)
      gst_caps_append_structure_full (result, s,
          gst_caps_features_copy (gst_caps_get_features (caps, i)));
    else
      gst_structure_free (s);
  }
  if (filter) {
    GstCaps *intersection = gst_caps_intersect_full (filter, result, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (result);
    result = intersection;
  }
  GST_DEBUG_OBJECT (self, "%s caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, result);
  return result;
}

/* The caps were computed by transform_caps from output-scale and mode as they were then; those may
 * have changed since (they are changeable while PLAYING). So the geometry is read from the caps
 * themselves, and frames are drawn by it until the next negotiation. */
gboolean
gst_facesr_set_info (GstVideoFilter * filter, GstCaps * incaps, GstVideoInfo * in_info,
    GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstFacesr *self = GST_FACESR (filter);
  const gint in_w = GST_VIDEO_INFO_WIDTH (in_info), in_h = GST_VIDEO_INFO_HEIGHT (in_info);
  const gint out_w = GST_VIDEO_INFO_WIDTH (out_info), out_h = GST_VIDEO_INFO_HEIGHT (out_info);
  const gint scale = in_h > 0 && out_h % in_h == 0 ? out_h / in_h : 0;
  const gboolean scale_ok = scale == 1 || scale == 2 || scale == 4 || scale == 8;
  const gboolean side_by_side = scale_ok && out_w == 2 * scale * in_w;

  if (GST_VIDEO_INFO_FORMAT (in_info) != GST_VIDEO_INFO_FORMAT (out_info) || !scale_ok ||
      (out_w != scale * in_w && !side_by_side)) {
    GST_ERROR_OBJECT (self, "output caps %" GST_PTR_FORMAT " are not input caps %" GST_PTR_FORMAT
        " scaled by 1, 2, 4 or 8 (and twice as wide side by side)", outcaps, incaps);
    return FALSE;
  }
  /* A resize would mix the two fields of an interlaced frame into every output line. */
  if (scale > 1 && GST_VIDEO_INFO_IS_INTERLACED (in_info)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("output-scale=%d needs progressive video; this stream is interlaced (interlace-mode=%s)", scale,
            gst_video_interlace_mode_to_string (GST_VIDEO_INFO_INTERLACE_MODE (in_info))),
        ("Put deinterlace before facesr (... ! deinterlace ! facesr output-scale=%d ! ...), or use output-scale=1.",
            scale));
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  self->negotiated_scale = (guint) scale;
  self->negotiated_side_by_side = side_by_side;
  const gboolean enabled = self->enabled;
  GST_OBJECT_UNLOCK (self);
  GST_DEBUG_OBJECT (self, "negotiated: output-scale %d%s", scale, side_by_side ? ", side by side" : "");

  const gboolean same_size = scale == 1 && !side_by_side;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), same_size);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), same_size && !enabled);
  if (self->enhancer)
    self->enhancer->reset ();
  self->had_faces = FALSE;
  return TRUE;
}

