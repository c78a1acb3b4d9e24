/* facesr: enhances faces in video with a GAN generator that does 8x super-resolution and
 * deblurring in one pass (Yun & Park, "Joint Face Super-Resolution and Deblurring Using a Generative
 * Adversarial Network"). */

/**
 * SECTION:element-facesr
 * @title: facesr
 *
 * Finds faces in each frame (MediaPipe's BlazeFace CNN by default, which finds faces from 12 px; dlib
 * HOG; an OpenCV Haar cascade; or the face #GstVideoRegionOfInterestMeta of upstream elements), tracks
 * them across frames, crops each face by
 * the model's crop rule to 32x32 pixels, runs all faces of the frame through the generator as one
 * batch (32x32 -> 256x256) and pastes each result back over the face with a feathered mask and
 * colour matching. The face pixels of the output are synthesized by a neural network: every
 * enhanced face is published as a #GstVideoRegionOfInterestMeta of type "face" with a "facesr"
 * parameter structure (track-id, score, enhanced, model, synthesized=TRUE) and in an element
 * message "facesr" (timestamp, stream-time, running-time, duration, synthesized, model, and a
 * "faces" list of x, y, width, height, track-id, score, detected, enhanced, synthesized), so that
 * footage handled as evidence can tell which pixels were made up.
 *
 * The model and the device are loaded when the element goes to PAUSED: a missing or corrupt model,
 * or device=cuda without CUDA, is an error and the state change fails.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! videoconvert ! facesr ! videoconvert ! x264enc ! mp4mux ! filesink location=out.mp4
 * ]| Enhances the faces of a file into an H.264 MP4 file (model: the installed default).
 * |[
 * gst-launch-1.0 rtspsrc location=rtsp://camera/stream latency=200 ! decodebin ! videoconvert ! facesr model=my.safetensors detect-interval=5 ! videoconvert ! autovideosink
 * ]| A live camera: the detector runs every 5th frame and the tracker follows faces in between.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! facesr mode=side-by-side annotate=true ! videoconvert ! autovideosink
 * ]| A webcam, original and enhanced next to each other, enhanced faces outlined.
 * |[
 * gst-launch-1.0 filesrc location=face.jpg ! jpegdec ! videoconvert ! facesr output-scale=4 ! videoconvert ! pngenc ! filesink location=face-x4.png
 * ]| A still image, 4x larger, faces pasted from the 256x256 results.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfacesr-private.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <vector>


GST_DEBUG_CATEGORY (gst_facesr_debug);
#define GST_CAT_DEFAULT gst_facesr_debug



#define VIDEO_CAPS GST_VIDEO_CAPS_MAKE ("{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, I420, NV12 }")

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (VIDEO_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (VIDEO_CAPS));

#define gst_facesr_parent_class parent_class
G_DEFINE_TYPE (GstFacesr, gst_facesr, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (facesr, "facesr", GST_RANK_NONE, GST_TYPE_FACESR);

/* What a frame needs from the properties and the negotiated geometry, read once per frame under
 * the lock. */
struct FrameOptions
{
  facesr::FrameSettings settings;
  gboolean enabled;
  guint scale;                  /* as negotiated */
  gboolean side_by_side;        /* as negotiated */
};

static FrameOptions
gst_facesr_frame_options (GstFacesr * self)
{
  FrameOptions o;
  GST_OBJECT_LOCK (self);
  guint interval = self->detect_interval;
  if (interval == 0)
    interval = self->detector == GST_FACESR_DETECTOR_UPSTREAM ? 1 : AUTO_DETECT_INTERVAL;
  o.settings.detect_interval = (int) interval;
  o.settings.min_face_size = (int) self->min_face_size;
  o.settings.max_face_size = (int) self->max_face_size;
  o.settings.max_faces = (int) self->max_faces;
  o.settings.temporal_smoothing = self->temporal_smoothing;
  o.settings.noise = (float) self->noise;
  o.settings.annotate = self->annotate;
  o.settings.flip_ensemble = self->flip_ensemble;
  o.enabled = self->enabled;
  o.scale = self->negotiated_scale;
  o.side_by_side = self->negotiated_side_by_side;
  /* Until a change of mode to or from side-by-side is negotiated, frames keep the old geometry. */
  o.settings.mode = o.side_by_side ? facesr::CompositeMode::SideBySide :
      self->mode == GST_FACESR_MODE_INSET ? facesr::CompositeMode::Inset : facesr::CompositeMode::Replace;
  GST_OBJECT_UNLOCK (self);
  return o;
}

/* ------------------------------------------------------------------------------------------- */
/* Start and stop: the model and detector are loaded here, never in init or set_property.       */

static gboolean
gst_facesr_start (GstBaseTransform * trans)
{
  GstFacesr *self = GST_FACESR (trans);
  facesr::EnhancerConfig config;

  GST_OBJECT_LOCK (self);
  config.model_path = self->model ? self->model : "";
  config.companions = self->companion_models;
  config.device = self->device == GST_FACESR_DEVICE_CPU ? facesr::Device::Cpu :
      self->device == GST_FACESR_DEVICE_CUDA ? facesr::Device::Cuda : facesr::Device::Auto;
  config.precision = self->precision == GST_FACESR_PRECISION_FP32 ? facesr::Precision::Float32 :
      self->precision == GST_FACESR_PRECISION_BF16 ? facesr::Precision::BFloat16 :
      self->precision == GST_FACESR_PRECISION_FP16 ? facesr::Precision::Float16 : facesr::Precision::Auto;
  config.threads = self->threads;
  const gboolean auto_detector = self->detector == GST_FACESR_DETECTOR_AUTO;
  config.source = self->detector == GST_FACESR_DETECTOR_HOG ? facesr::FaceSource::Hog :
      self->detector == GST_FACESR_DETECTOR_UPSTREAM ? facesr::FaceSource::Upstream :
      self->detector == GST_FACESR_DETECTOR_HAAR ? facesr::FaceSource::Haar : facesr::FaceSource::BlazeFace;
  self->earliest_time = GST_CLOCK_TIME_NONE;
  self->qos_proportion = 1.0;
  GST_OBJECT_UNLOCK (self);

  if (config.model_path.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No facesr model given."),
        ("Set the model property to a facesr weights file (.safetensors), for example the "
            "default model " FACESR_DEFAULT_MODEL "."));
    return FALSE;
  }

  try {
    try {
      self->enhancer = facesr::FaceEnhancer::create (config).release ();
    } catch (const facesr::Error &) {
      throw;
    } catch (const std::exception & e) {
      /* detector=auto: BlazeFace when its model loads, else the Haar cascade, said on the bus. */
      if (!auto_detector)
        throw;
      GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
          ("detector=auto: BlazeFace is not available, using the Haar cascade, which misses most "
              "faces under 20 px: %s", facesr::printable_text (e.what (), 1000).c_str ()),
          ("Run scripts/fetch-detector-models.sh (or set FACESR_BLAZEFACE_MODEL) to get BlazeFace; "
              "set detector=haar to silence this."));
      config.source = facesr::FaceSource::Haar;
      self->enhancer = facesr::FaceEnhancer::create (config).release ();
    }
  } catch (const facesr::Error & e) {
    if (e.kind () == facesr::Error::Kind::Device) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("The requested device or precision is not available here (model \"%s\"): %s",
              facesr::printable_text (config.model_path, 500).c_str (), e.what ()),
          ("Set device=cpu (or device=auto, which uses a CUDA GPU when there is one) and "
              "precision=auto, or run on a machine whose LibTorch has CUDA and a GPU."));
    } else {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not load the facesr model \"%s\": %s", facesr::printable_text (config.model_path, 500).c_str (),
              e.what ()),
          ("Set the model property to a facesr weights file (.safetensors, made by facesr-train); "
              "the default model is " FACESR_DEFAULT_MODEL "."));
    }
    return FALSE;
  } catch (const std::exception & e) {
    /* FaceEnhancer::create turns every failure of the model's loading into facesr::Error: this one
     * is the detector's. */
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("Could not create the face detector: %s",
            facesr::printable_text (e.what (), 1000).c_str ()),
        ("detector=blazeface needs its model (scripts/fetch-detector-models.sh); detector=haar "
            "needs the OpenCV cascades of Debian's opencv-data package; or choose detector=hog or "
            "detector=upstream."));
    return FALSE;
  }

  self->model_name = g_strdup (self->enhancer->model_name ().c_str ());
  for (const std::string & warning : self->enhancer->warnings ())
    GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND, ("%s", warning.c_str ()), (NULL));
  self->use_upstream = config.source == facesr::FaceSource::Upstream;
  self->had_faces = FALSE;
  self->processed = 0;
  self->passed_late = 0;
  GST_OBJECT_LOCK (self);
  /* Until frames are measured: one face through the engine. */
  self->latency = (GstClockTime) (self->enhancer->face_ms () * GST_MSECOND);
  GST_OBJECT_UNLOCK (self);

  const std::string device = self->enhancer->device_description ();
  if (config.device == facesr::Device::Auto && device.rfind ("CPU", 0) == 0)
    GST_INFO_OBJECT (self, "device=auto: no CUDA GPU available, running on the %s", device.c_str ());
  GST_INFO_OBJECT (self, "model %s on %s, one face in %.1f ms; faces found by %s", self->model_name,
      device.c_str (), self->enhancer->face_ms (), facesr::to_string (config.source).c_str ());
  return TRUE;
}

static gboolean
gst_facesr_stop (GstBaseTransform * trans)
{
  GstFacesr *self = GST_FACESR (trans);

  delete self->enhancer;
  self->enhancer = NULL;
  g_clear_pointer (&self->model_name, g_free);
  GST_DEBUG_OBJECT (self, "stopped after %" G_GUINT64_FORMAT " frames (%" G_GUINT64_FORMAT
      " late frames passed through)", self->processed, self->passed_late);
  return TRUE;
}

/* ------------------------------------------------------------------------------------------- */
/* Per frame                                                                                    */

static facesr::FramePlanes
describe_frame (GstVideoFrame * frame)
{
  facesr::FramePlanes p;
  p.width = GST_VIDEO_FRAME_WIDTH (frame);
  p.height = GST_VIDEO_FRAME_HEIGHT (frame);
  for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES (frame) && i < 3; ++i) {
    p.data[i] = (uint8_t *) GST_VIDEO_FRAME_PLANE_DATA (frame, i);
    p.stride[i] = (std::size_t) GST_VIDEO_FRAME_PLANE_STRIDE (frame, i);
  }
  switch (GST_VIDEO_FRAME_FORMAT (frame)) {
    case GST_VIDEO_FORMAT_I420:
      p.layout = facesr::FrameLayout::I420;
      break;
    case GST_VIDEO_FORMAT_NV12:
      p.layout = facesr::FrameLayout::NV12;
      break;
    default:
      p.layout = facesr::FrameLayout::Packed;
      p.pixel_bytes = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0);
      p.r = GST_VIDEO_FRAME_COMP_POFFSET (frame, GST_VIDEO_COMP_R);
      p.g = GST_VIDEO_FRAME_COMP_POFFSET (frame, GST_VIDEO_COMP_G);
      p.b = GST_VIDEO_FRAME_COMP_POFFSET (frame, GST_VIDEO_COMP_B);
      break;
  }
  const GstVideoColorimetry *c = &GST_VIDEO_INFO_COLORIMETRY (&frame->info);
  gdouble kr, kb;
  if (gst_video_color_matrix_get_Kr_Kb (c->matrix, &kr, &kb)) {
    p.matrix.kr = kr;
    p.matrix.kb = kb;
  }
  p.matrix.full_range = c->range == GST_VIDEO_COLOR_RANGE_0_255;
  return p;
}

/* QoS: a frame already late is passed through un-enhanced (not dropped). */
static gboolean
gst_facesr_frame_is_late (GstFacesr * self, GstBuffer * buffer)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  if (!gst_base_transform_is_qos_enabled (trans) || trans->segment.format != GST_FORMAT_TIME)
    return FALSE;
  const GstClockTime running_time =
      gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
  GST_OBJECT_LOCK (self);
  const GstClockTime earliest = self->earliest_time;
  const gdouble proportion = self->qos_proportion;
  GST_OBJECT_UNLOCK (self);
  if (!GST_CLOCK_TIME_IS_VALID (running_time) || !GST_CLOCK_TIME_IS_VALID (earliest) || running_time > earliest)
    return FALSE;

  self->passed_late++;
  GST_DEBUG_OBJECT (self, "frame late (%" GST_TIME_FORMAT " <= %" GST_TIME_FORMAT
      "): passed through un-enhanced", GST_TIME_ARGS (running_time), GST_TIME_ARGS (earliest));
  GstMessage *qos = gst_message_new_qos (GST_OBJECT (self), FALSE, running_time,
      gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer)),
      GST_BUFFER_PTS (buffer), GST_BUFFER_DURATION (buffer));
  gst_message_set_qos_values (qos, GST_CLOCK_DIFF (running_time, earliest), proportion, 1000000);
  gst_message_set_qos_stats (qos, GST_FORMAT_BUFFERS, self->processed, self->passed_late);
  gst_element_post_message (GST_ELEMENT (self), qos);
  return TRUE;
}

/* Keeps the reported latency at least the time frames really take, with 25% headroom. */
static void
gst_facesr_update_latency (GstFacesr * self, GstClockTime elapsed)
{
  gboolean raised = FALSE;
  GST_OBJECT_LOCK (self);
  if (elapsed > self->latency) {
    self->latency = elapsed + elapsed / 4;
    raised = TRUE;
  }
  GST_OBJECT_UNLOCK (self);
  if (raised) {
    GST_INFO_OBJECT (self, "processing latency now %" GST_TIME_FORMAT, GST_TIME_ARGS (self->latency));
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_latency (GST_OBJECT (self)));
  }
}

/* Enhances the faces of `source` into `target` (the same frame, or the output picture) and
 * publishes them on `out`. */
static GstFlowReturn
gst_facesr_enhance (GstFacesr * self, GstBuffer * in, const facesr::FramePlanes & source,
    facesr::FramePlanes & target, GstBuffer * out, gint out_width, gint out_height, const FrameOptions & o)
{
  const auto t0 = std::chrono::steady_clock::now ();
  std::vector<facesr::FaceReport> faces;
  const guint64 dropped = self->enhancer->dropped_detections (), cuts = self->enhancer->scene_cuts ();
  try {
    const std::vector<facesr::Detection> given =
        self->use_upstream ? gst_facesr_upstream_faces (in, source.width, source.height) :
        std::vector<facesr::Detection> ();
    faces = self->enhancer->process (source, target, (int) o.scale, given, o.settings);
  } catch (const std::exception & e) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Face enhancement failed: %s",
            facesr::printable_text (e.what (), 1000).c_str ()), (NULL));
    return GST_FLOW_ERROR;
  }
  if (self->enhancer->dropped_detections () != dropped)
    GST_DEBUG_OBJECT (self, "dropped %" G_GUINT64_FORMAT " unusable detection box(es) (not finite, no area, or "
        "outside the frame)", self->enhancer->dropped_detections () - dropped);
  if (self->enhancer->scene_cuts () != cuts)
    GST_DEBUG_OBJECT (self, "scene cut at %" GST_TIME_FORMAT ": tracks and smoothing reset",
        GST_TIME_ARGS (GST_BUFFER_PTS (in)));
  for (auto & f : faces)
    f.box.x += target.origin_x;
  gst_facesr_attach_metas (out, faces, out_width, out_height);
  gst_facesr_post_message (self, out, faces, out_width, out_height);
  self->processed++;
  gst_facesr_update_latency (self, (GstClockTime) std::chrono::duration_cast < std::chrono::nanoseconds >
      (std::chrono::steady_clock::now () - t0).count ());
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_facesr_transform_frame_ip (GstVideoFilter * filter, GstVideoFrame * frame)
{
  GstFacesr *self = GST_FACESR (filter);
  if (gst_base_transform_is_passthrough (GST_BASE_TRANSFORM (filter)))
    return GST_FLOW_OK;
  const FrameOptions o = gst_facesr_frame_options (self);
  if (!o.enabled || gst_facesr_frame_is_late (self, frame->buffer))
    return GST_FLOW_OK;
  facesr::FramePlanes planes = describe_frame (frame);
  return gst_facesr_enhance (self, frame->buffer, planes, planes, frame->buffer,
      planes.width, planes.height, o);
}

static GstFlowReturn
gst_facesr_transform_frame (GstVideoFilter * filter, GstVideoFrame * in_frame, GstVideoFrame * out_frame)
{
  GstFacesr *self = GST_FACESR (filter);
  const FrameOptions o = gst_facesr_frame_options (self);
  const facesr::FramePlanes source = describe_frame (in_frame);
  facesr::FramePlanes out = describe_frame (out_frame);

  /* The enhanced picture fills the output, or its right half side by side. */
  const gint picture_width = source.width * (gint) o.scale;
  facesr::FramePlanes target = facesr::sub_frame (out,
      cv::Rect (o.side_by_side ? out.width - picture_width : 0, 0, picture_width, out.height));
  facesr::resize_frame (source, target);
  if (o.side_by_side) {
    facesr::FramePlanes original = facesr::sub_frame (out, cv::Rect (0, 0, picture_width, out.height));
    facesr::resize_frame (source, original);
  }
  if (!o.enabled || gst_facesr_frame_is_late (self, in_frame->buffer))
    return GST_FLOW_OK;
  return gst_facesr_enhance (self, in_frame->buffer, source, target, out_frame->buffer,
      out.width, out.height, o);
}

static gboolean
gst_facesr_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstFacesr *self = GST_FACESR (trans);
  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) {
    if (self->enhancer)
      self->enhancer->reset ();
    self->had_faces = FALSE;
    GST_OBJECT_LOCK (self);
    self->earliest_time = GST_CLOCK_TIME_NONE;
    self->qos_proportion = 1.0;
    GST_OBJECT_UNLOCK (self);
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_facesr_src_event (GstBaseTransform * trans, GstEvent * event)
{
  GstFacesr *self = GST_FACESR (trans);
  if (GST_EVENT_TYPE (event) == GST_EVENT_QOS) {
    /* Kept here rather than in the base class, which would drop late frames: facesr passes them
     * through un-enhanced instead (gst_facesr_frame_is_late). */
    gdouble proportion;
    GstClockTimeDiff diff;
    GstClockTime timestamp;
    gst_event_parse_qos (event, NULL, &proportion, &diff, &timestamp);
    GST_OBJECT_LOCK (self);
    self->qos_proportion = proportion;
    self->earliest_time = GST_CLOCK_TIME_IS_VALID (timestamp) ? timestamp + diff : GST_CLOCK_TIME_NONE;
    GST_OBJECT_UNLOCK (self);
    return gst_pad_push_event (GST_BASE_TRANSFORM_SINK_PAD (trans), event);
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->src_event (trans, event);
}

static gboolean
gst_facesr_query (GstBaseTransform * trans, GstPadDirection direction, GstQuery * query)
{
  GstFacesr *self = GST_FACESR (trans);
  if (direction != GST_PAD_SRC || GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction, query);

  if (!gst_pad_peer_query (GST_BASE_TRANSFORM_SINK_PAD (trans), query))
    return FALSE;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (query, &live, &min, &max);
  GST_OBJECT_LOCK (self);
  const GstClockTime ours = self->latency;
  GST_OBJECT_UNLOCK (self);
  min += ours;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max += ours;
  GST_DEBUG_OBJECT (self, "adding %" GST_TIME_FORMAT " of processing latency", GST_TIME_ARGS (ours));
  gst_query_set_latency (query, live, min, max);
  return TRUE;
}

/* ------------------------------------------------------------------------------------------- */
/* Type                                                                                         */

static void
gst_facesr_finalize (GObject * object)
{
  GstFacesr *self = GST_FACESR (object);
  delete self->enhancer;
  self->enhancer = NULL;
  g_free (self->model_name);
  g_free (self->model);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_facesr_class_init (GstFacesrClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  GST_DEBUG_CATEGORY_INIT (gst_facesr_debug, "facesr", 0, "facesr face super-resolution");

  gobject_class->finalize = gst_facesr_finalize;

  gst_facesr_install_properties (gobject_class);

  gst_element_class_set_static_metadata (element_class,
      "Face super-resolution", "Filter/Effect/Video",
      "Enhances faces in video with a GAN that does 8x super-resolution and deblurring "
      "(32x32 -> 256x256 per face): finds and tracks faces, enhances all faces of a frame in one "
      "batch and pastes them back with a feathered, colour-matched mask. Enhanced face pixels are "
      "synthesized; each face is published as a GstVideoRegionOfInterestMeta of type \"face\" "
      "(params \"facesr\": track-id, score, enhanced, model, synthesized) and in an element message "
      "\"facesr\".\n"
      "Examples:\n"
      "  gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! videoconvert ! facesr ! videoconvert "
      "! x264enc ! mp4mux ! filesink location=out.mp4\n"
      "  gst-launch-1.0 v4l2src ! videoconvert ! facesr mode=side-by-side annotate=true ! "
      "videoconvert ! autovideosink\n"
      "  gst-launch-1.0 filesrc location=face.jpg ! jpegdec ! videoconvert ! facesr output-scale=4 "
      "! videoconvert ! pngenc ! filesink location=face-x4.png",
      "facesr authors");

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_facesr_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_facesr_stop);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR (gst_facesr_transform_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_facesr_sink_event);
  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_facesr_src_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_facesr_query);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_facesr_set_info);
  filter_class->transform_frame = GST_DEBUG_FUNCPTR (gst_facesr_transform_frame);
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR (gst_facesr_transform_frame_ip);

}

static void
gst_facesr_init (GstFacesr * self)
{
  gst_facesr_init_properties (self);
  self->latency = 0;
  self->negotiated_scale = 1;
  self->negotiated_side_by_side = FALSE;
  self->earliest_time = GST_CLOCK_TIME_NONE;
  self->qos_proportion = 1.0;
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), TRUE);
}
