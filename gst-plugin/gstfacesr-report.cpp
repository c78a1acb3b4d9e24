/* What the facesr element tells downstream and the application about the faces of a frame:
 * GstVideoRegionOfInterestMeta of type "face" with a "facesr" parameter structure, and the "facesr"
 * element message; and the face metas it reads from upstream (detector=upstream). */
#include "gstfacesr-private.h"

#include <algorithm>

/* Faces given by upstream: region-of-interest metas of type "face" that no facesr made, clipped to
 * the frame (a meta is outside data: a 100000x100000 box on a 160x120 frame once asked for 67 GB). */
std::vector<facesr::Detection>
gst_facesr_upstream_faces (GstBuffer * buffer, gint frame_width, gint frame_height)
{
  std::vector<facesr::Detection> faces;
  const GQuark face = g_quark_from_static_string ("face");
  gpointer state = NULL;
  GstMeta *meta;
  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    if (roi->roi_type != face || gst_video_region_of_interest_meta_get_param (roi, "facesr"))
      continue;
    const guint64 x0 = MIN ((guint64) roi->x, (guint64) frame_width);
    const guint64 y0 = MIN ((guint64) roi->y, (guint64) frame_height);
    const guint64 x1 = MIN ((guint64) roi->x + roi->w, (guint64) frame_width);
    const guint64 y1 = MIN ((guint64) roi->y + roi->h, (guint64) frame_height);
    facesr::Detection d;
    d.box = {(double) x0, (double) y0, (double) (x1 - x0), (double) (y1 - y0)};
    d.score = 1.0;
    GstStructure *detection = gst_video_region_of_interest_meta_get_param (roi, "detection");
    if (detection)
      gst_structure_get_double (detection, "confidence", &d.score);
    if (d.box.width > 0 && d.box.height > 0)
      faces.push_back (d);
  }
  return faces;
}

/* The face box as whole pixels inside the frame (ROI metas and messages hold unsigned ints). */
static void
clip_box (const facesr::FaceBox & b, gint frame_width, gint frame_height, guint * x, guint * y,
    guint * w, guint * h)
{
  const gint x0 = CLAMP ((gint) (b.x + 0.5), 0, frame_width), y0 = CLAMP ((gint) (b.y + 0.5), 0, frame_height);
  const gint x1 = CLAMP ((gint) (b.x + b.width + 0.5), 0, frame_width);
  const gint y1 = CLAMP ((gint) (b.y + b.height + 0.5), 0, frame_height);
  *x = x0;
  *y = y0;
  *w = x1 - x0;
  *h = y1 - y0;
}

void
gst_facesr_attach_metas (GstBuffer * buffer, const std::vector<facesr::FaceReport> & faces,
    gint frame_width, gint frame_height)
{
  for (const auto & f : faces) {
    guint x, y, w, h;
    clip_box (f.box, frame_width, frame_height, &x, &y, &w, &h);
    GstVideoRegionOfInterestMeta *roi =
        gst_buffer_add_video_region_of_interest_meta (buffer, "face", x, y, w, h);
    roi->id = f.track_id;
    gst_video_region_of_interest_meta_add_param (roi, gst_structure_new ("facesr",
            "track-id", G_TYPE_INT, f.track_id,
            "score", G_TYPE_DOUBLE, f.score,
            "detected", G_TYPE_BOOLEAN, f.detected,
            "enhanced", G_TYPE_BOOLEAN, f.enhanced,
            "reason", G_TYPE_STRING, f.enhanced ? "enhanced" : f.reason.c_str (),
            "model", G_TYPE_STRING, f.enhanced ? f.model.c_str () : "",
            "scale", G_TYPE_UINT, (guint) f.scale,
            "synthesized", G_TYPE_BOOLEAN, f.enhanced, NULL));
  }
}

/* An element message shaped like gst-plugins-bad facedetect's; posted for frames with faces, and
 * once with an empty list when the faces are gone. */
void
gst_facesr_post_message (GstFacesr * self, GstBuffer * buffer, const std::vector<facesr::FaceReport> & faces,
    gint frame_width, gint frame_height)
{
  if (faces.empty () && !self->had_faces)
    return;
  self->had_faces = !faces.empty ();
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  const GstClockTime pts = GST_BUFFER_PTS (buffer);
  GstStructure *s = gst_structure_new ("facesr",
      "timestamp", G_TYPE_UINT64, pts,
      "stream-time", G_TYPE_UINT64, gst_segment_to_stream_time (segment, GST_FORMAT_TIME, pts),
      "running-time", G_TYPE_UINT64, gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts),
      "duration", G_TYPE_UINT64, GST_BUFFER_DURATION (buffer),
      "synthesized", G_TYPE_BOOLEAN, std::any_of (faces.begin (), faces.end (),
          [](const facesr::FaceReport & f) { return f.enhanced; }),
      "model", G_TYPE_STRING, self->model_name, NULL);
  GValue list = G_VALUE_INIT;
  g_value_init (&list, GST_TYPE_LIST);
  for (const auto & f : faces) {
    guint x, y, w, h;
    clip_box (f.box, frame_width, frame_height, &x, &y, &w, &h);
    GValue item = G_VALUE_INIT;
    g_value_init (&item, GST_TYPE_STRUCTURE);
    GstStructure *face = gst_structure_new ("face",
            "x", G_TYPE_UINT, x, "y", G_TYPE_UINT, y,
            "width", G_TYPE_UINT, w, "height", G_TYPE_UINT, h,
            "track-id", G_TYPE_INT, f.track_id,
            "score", G_TYPE_DOUBLE, f.score,
            "detected", G_TYPE_BOOLEAN, f.detected,
            "enhanced", G_TYPE_BOOLEAN, f.enhanced,
            "reason", G_TYPE_STRING, f.enhanced ? "enhanced" : f.reason.c_str (),
            "model", G_TYPE_STRING, f.enhanced ? f.model.c_str () : "",
            "scale", G_TYPE_UINT, (guint) f.scale,
            "synthesized", G_TYPE_BOOLEAN, f.enhanced, NULL);
    gst_value_set_structure (&item, face);
    gst_structure_free (face);
    gst_value_list_append_and_take_value (&list, &item);
  }
  gst_structure_take_value (s, "faces", &list);
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
}

