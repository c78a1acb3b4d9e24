/* facesr: enhances faces in video with a GAN generator that does 8x super-resolution and
 * deblurring in one pass (Yun & Park, "Joint Face Super-Resolution and Deblurring Using a Generative
 * Adversarial Network"). */

/**
 * SECTION:element-facesr
 * @title: facesr
 *
 * Finds faces in each frame (dlib HOG, an OpenCV Haar cascade, or the face
 * #GstVideoRegionOfInterestMeta of upstream elements), tracks them across frames, crops each face by
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

#include "gstfacesr.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "face_enhancer.h"

GST_DEBUG_CATEGORY_STATIC (gst_facesr_debug);
#define GST_CAT_DEFAULT gst_facesr_debug

#ifndef FACESR_DEFAULT_MODEL
#define FACESR_DEFAULT_MODEL "/usr/local/share/facesr/facesr-default.safetensors"
#endif

#define DEFAULT_MODEL FACESR_DEFAULT_MODEL
#define DEFAULT_DEVICE GST_FACESR_DEVICE_AUTO
#define DEFAULT_PRECISION GST_FACESR_PRECISION_AUTO
#define DEFAULT_THREADS 0
#define DEFAULT_DETECTOR GST_FACESR_DETECTOR_HAAR
#define DEFAULT_DETECT_INTERVAL 0
#define DEFAULT_MIN_FACE_SIZE 16
#define DEFAULT_MAX_FACE_SIZE 96
#define DEFAULT_MAX_FACES 8
#define DEFAULT_OUTPUT_SCALE 1
#define DEFAULT_MODE GST_FACESR_MODE_REPLACE
#define DEFAULT_TEMPORAL_SMOOTHING 0.0
#define DEFAULT_NOISE 0.0
#define DEFAULT_ANNOTATE FALSE
#define DEFAULT_ENABLED TRUE

/* detect-interval 0 ("auto") means this with the hog and haar detectors, and 1 with upstream. */
#define AUTO_DETECT_INTERVAL 5

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_DEVICE,
  PROP_PRECISION,
  PROP_THREADS,
  PROP_DETECTOR,
  PROP_DETECT_INTERVAL,
  PROP_MIN_FACE_SIZE,
  PROP_MAX_FACE_SIZE,
  PROP_MAX_FACES,
  PROP_OUTPUT_SCALE,
  PROP_MODE,
  PROP_TEMPORAL_SMOOTHING,
  PROP_NOISE,
  PROP_ANNOTATE,
  PROP_ENABLED,
};

struct _GstFacesr
{
  GstVideoFilter parent;

  /* Properties; under the object lock. */
  gchar *model;
  GstFacesrDevice device;
  GstFacesrPrecision precision;
  gint threads;
  GstFacesrDetector detector;
  guint detect_interval;
  guint min_face_size;
  guint max_face_size;
  guint max_faces;
  guint output_scale;
  GstFacesrMode mode;
  gdouble temporal_smoothing;
  gdouble noise;
  gboolean annotate;
  gboolean enabled;

  /* Streaming state: created in start(), dropped in stop(). */
  facesr::FaceEnhancer *enhancer;
  gchar *model_name;
  gboolean use_upstream;        /* detector=upstream */
  gboolean had_faces;           /* the last message listed faces */
  guint64 processed;            /* frames enhanced */
  guint64 passed_late;          /* late frames passed through un-enhanced */

  /* Under the object lock. */
  GstClockTime latency;         /* what the element adds (LATENCY query) */
  GstClockTime earliest_time;   /* from QoS events; GST_CLOCK_TIME_NONE: none */
  gdouble qos_proportion;
};

#define VIDEO_CAPS GST_VIDEO_CAPS_MAKE ("{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, I420, NV12 }")

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (VIDEO_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (VIDEO_CAPS));

#define gst_facesr_parent_class parent_class
G_DEFINE_TYPE (GstFacesr, gst_facesr, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (facesr, "facesr", GST_RANK_NONE, GST_TYPE_FACESR);

GType
gst_facesr_device_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_FACESR_DEVICE_AUTO, "CUDA when LibTorch sees a GPU, else the CPU", "auto"},
    {GST_FACESR_DEVICE_CPU, "The CPU", "cpu"},
    {GST_FACESR_DEVICE_CUDA, "A CUDA GPU (fails to start without one)", "cuda"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstFacesrDevice", values));
  return type;
}

GType
gst_facesr_precision_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_FACESR_PRECISION_AUTO,
        "bf16 on a CPU with AVX-512 BF16 (about 2x faster than fp32, within 0.05 dB), else fp32", "auto"},
    {GST_FACESR_PRECISION_FP32, "32-bit float", "fp32"},
    {GST_FACESR_PRECISION_BF16, "bfloat16 layers, float32 residual base and output", "bf16"},
    {GST_FACESR_PRECISION_FP16, "float16 (CUDA only)", "fp16"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstFacesrPrecision", values));
  return type;
}

GType
gst_facesr_detector_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_FACESR_DETECTOR_HOG, "dlib HOG: accurate, faces from about 28 px (slower below 40 px)", "hog"},
    {GST_FACESR_DETECTOR_HAAR, "OpenCV Haar cascade: fast, faces from about 16-24 px", "haar"},
    {GST_FACESR_DETECTOR_UPSTREAM,
        "Faces given by upstream GstVideoRegionOfInterestMeta of type \"face\"", "upstream"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstFacesrDetector", values));
  return type;
}

GType
gst_facesr_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_FACESR_MODE_REPLACE, "Enhanced faces replace the original faces", "replace"},
    {GST_FACESR_MODE_INSET, "Faces replaced, and each also shown enlarged beside it", "inset"},
    {GST_FACESR_MODE_SIDE_BY_SIDE,
        "Original frame on the left, enhanced frame on the right (output twice as wide)", "side-by-side"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstFacesrMode", values));
  return type;
}

/* ------------------------------------------------------------------------------------------- */
/* Properties                                                                                   */

static void
gst_facesr_set_property (GObject * object, guint prop_id, const GValue * value, GParamSpec * pspec)
{
  GstFacesr *self = GST_FACESR (object);
  gboolean caps_change = FALSE, passthrough_change = FALSE, passthrough = FALSE;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_free (self->model);
      self->model = g_value_dup_string (value);
      GST_DEBUG_OBJECT (self, "model: %s (used from the next start)", GST_STR_NULL (self->model));
      break;
    case PROP_DEVICE:
      self->device = (GstFacesrDevice) g_value_get_enum (value);
      GST_DEBUG_OBJECT (self, "device: %d (used from the next start)", self->device);
      break;
    case PROP_PRECISION:
      self->precision = (GstFacesrPrecision) g_value_get_enum (value);
      GST_DEBUG_OBJECT (self, "precision: %d (used from the next start)", self->precision);
      break;
    case PROP_THREADS:
      self->threads = g_value_get_int (value);
      GST_DEBUG_OBJECT (self, "threads: %d", self->threads);
      break;
    case PROP_DETECTOR:
      self->detector = (GstFacesrDetector) g_value_get_enum (value);
      GST_DEBUG_OBJECT (self, "detector: %d (used from the next start)", self->detector);
      break;
    case PROP_DETECT_INTERVAL:
      self->detect_interval = g_value_get_uint (value);
      GST_DEBUG_OBJECT (self, "detect-interval: %u", self->detect_interval);
      break;
    case PROP_MIN_FACE_SIZE:
      self->min_face_size = g_value_get_uint (value);
      GST_DEBUG_OBJECT (self, "min-face-size: %u", self->min_face_size);
      break;
    case PROP_MAX_FACE_SIZE:
      self->max_face_size = g_value_get_uint (value);
      GST_DEBUG_OBJECT (self, "max-face-size: %u", self->max_face_size);
      break;
    case PROP_MAX_FACES:
      self->max_faces = g_value_get_uint (value);
      GST_DEBUG_OBJECT (self, "max-faces: %u", self->max_faces);
      break;
    case PROP_OUTPUT_SCALE:{
      guint scale = g_value_get_uint (value);
      if (scale != 1 && scale != 2 && scale != 4 && scale != 8) {
        g_warning ("facesr: output-scale must be 1, 2, 4 or 8, not %u; keeping %u", scale, self->output_scale);
        break;
      }
      caps_change = scale != self->output_scale;
      self->output_scale = scale;
      GST_DEBUG_OBJECT (self, "output-scale: %u", scale);
      break;
    }
    case PROP_MODE:{
      GstFacesrMode mode = (GstFacesrMode) g_value_get_enum (value);
      caps_change = (mode == GST_FACESR_MODE_SIDE_BY_SIDE) != (self->mode == GST_FACESR_MODE_SIDE_BY_SIDE);
      self->mode = mode;
      GST_DEBUG_OBJECT (self, "mode: %d", mode);
      break;
    }
    case PROP_TEMPORAL_SMOOTHING:
      self->temporal_smoothing = g_value_get_double (value);
      GST_DEBUG_OBJECT (self, "temporal-smoothing: %f", self->temporal_smoothing);
      break;
    case PROP_NOISE:
      self->noise = g_value_get_double (value);
      GST_DEBUG_OBJECT (self, "noise: %f", self->noise);
      break;
    case PROP_ANNOTATE:
      self->annotate = g_value_get_boolean (value);
      GST_DEBUG_OBJECT (self, "annotate: %d", self->annotate);
      break;
    case PROP_ENABLED:
      self->enabled = g_value_get_boolean (value);
      passthrough_change = TRUE;
      passthrough = !self->enabled && self->output_scale == 1 && self->mode != GST_FACESR_MODE_SIDE_BY_SIDE;
      GST_DEBUG_OBJECT (self, "enabled: %d", self->enabled);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);

  if (passthrough_change)
    gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), passthrough);
  if (caps_change)
    gst_base_transform_reconfigure_src (GST_BASE_TRANSFORM (self));
}

static void
gst_facesr_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  GstFacesr *self = GST_FACESR (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;
    case PROP_DEVICE:
      g_value_set_enum (value, self->device);
      break;
    case PROP_PRECISION:
      g_value_set_enum (value, self->precision);
      break;
    case PROP_THREADS:
      g_value_set_int (value, self->threads);
      break;
    case PROP_DETECTOR:
      g_value_set_enum (value, self->detector);
      break;
    case PROP_DETECT_INTERVAL:
      g_value_set_uint (value, self->detect_interval);
      break;
    case PROP_MIN_FACE_SIZE:
      g_value_set_uint (value, self->min_face_size);
      break;
    case PROP_MAX_FACE_SIZE:
      g_value_set_uint (value, self->max_face_size);
      break;
    case PROP_MAX_FACES:
      g_value_set_uint (value, self->max_faces);
      break;
    case PROP_OUTPUT_SCALE:
      g_value_set_uint (value, self->output_scale);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_TEMPORAL_SMOOTHING:
      g_value_set_double (value, self->temporal_smoothing);
      break;
    case PROP_NOISE:
      g_value_set_double (value, self->noise);
      break;
    case PROP_ANNOTATE:
      g_value_set_boolean (value, self->annotate);
      break;
    case PROP_ENABLED:
      g_value_set_boolean (value, self->enabled);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* What a frame needs from the properties, read once per frame under the lock. */
struct FrameOptions
{
  facesr::FrameSettings settings;
  gboolean enabled;
  guint scale;
  gboolean side_by_side;
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
  o.settings.mode = self->mode == GST_FACESR_MODE_INSET ? facesr::CompositeMode::Inset :
      self->mode == GST_FACESR_MODE_SIDE_BY_SIDE ? facesr::CompositeMode::SideBySide :
      facesr::CompositeMode::Replace;
  o.enabled = self->enabled;
  o.scale = self->output_scale;
  o.side_by_side = self->mode == GST_FACESR_MODE_SIDE_BY_SIDE;
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
  config.device = self->device == GST_FACESR_DEVICE_CPU ? facesr::Device::Cpu :
      self->device == GST_FACESR_DEVICE_CUDA ? facesr::Device::Cuda : facesr::Device::Auto;
  config.precision = self->precision == GST_FACESR_PRECISION_FP32 ? facesr::Precision::Float32 :
      self->precision == GST_FACESR_PRECISION_BF16 ? facesr::Precision::BFloat16 :
      self->precision == GST_FACESR_PRECISION_FP16 ? facesr::Precision::Float16 : facesr::Precision::Auto;
  config.threads = self->threads;
  config.source = self->detector == GST_FACESR_DETECTOR_HOG ? facesr::FaceSource::Hog :
      self->detector == GST_FACESR_DETECTOR_UPSTREAM ? facesr::FaceSource::Upstream :
      facesr::FaceSource::Haar;
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
    self->enhancer = facesr::FaceEnhancer::create (config).release ();
  } catch (const facesr::Error & e) {
    if (e.kind () == facesr::Error::Kind::Device) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("The requested device is not available: %s", e.what ()),
          ("Set device=cpu (or device=auto, which uses a CUDA GPU when there is one), or run on a "
              "machine whose LibTorch has CUDA and a GPU."));
    } else {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not load the facesr model \"%s\": %s", config.model_path.c_str (), e.what ()),
          ("Set the model property to a facesr weights file (.safetensors, made by facesr-train); "
              "the default model is " FACESR_DEFAULT_MODEL "."));
    }
    return FALSE;
  } catch (const std::exception & e) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("Could not create the face detector: %s", e.what ()),
        ("detector=haar needs the OpenCV cascades of Debian's opencv-data package; or choose "
            "detector=hog or detector=upstream."));
    return FALSE;
  }

  self->model_name = g_strdup (self->enhancer->model_name ().c_str ());
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
  GST_INFO_OBJECT (self, "model %s on %s, one face in %.1f ms", self->model_name, device.c_str (),
      self->enhancer->face_ms ());
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

static GstCaps *
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

static gboolean
gst_facesr_set_info (GstVideoFilter * filter, GstCaps * incaps, GstVideoInfo * in_info,
    GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstFacesr *self = GST_FACESR (filter);
  FrameOptions o = gst_facesr_frame_options (self);
  const gint width_factor = (gint) o.scale * (o.side_by_side ? 2 : 1);

  if (GST_VIDEO_INFO_FORMAT (in_info) != GST_VIDEO_INFO_FORMAT (out_info) ||
      GST_VIDEO_INFO_WIDTH (out_info) != GST_VIDEO_INFO_WIDTH (in_info) * width_factor ||
      GST_VIDEO_INFO_HEIGHT (out_info) != GST_VIDEO_INFO_HEIGHT (in_info) * (gint) o.scale) {
    GST_ERROR_OBJECT (self, "output caps %" GST_PTR_FORMAT " do not fit input %" GST_PTR_FORMAT
        " with output-scale %u and mode %s", outcaps, incaps, o.scale,
        o.side_by_side ? "side-by-side" : "replace/inset");
    return FALSE;
  }
  const gboolean same_size = width_factor == 1 && o.scale == 1;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), same_size);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), same_size && !o.enabled);
  if (self->enhancer)
    self->enhancer->reset ();
  self->had_faces = FALSE;
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

/* Faces given by upstream: region-of-interest metas of type "face" that no facesr made. */
static std::vector<facesr::Detection>
upstream_faces (GstBuffer * buffer)
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
    facesr::Detection d;
    d.box = {(double) roi->x, (double) roi->y, (double) roi->w, (double) roi->h};
    d.score = 1.0;
    GstStructure *detection = gst_video_region_of_interest_meta_get_param (roi, "detection");
    if (detection)
      gst_structure_get_double (detection, "confidence", &d.score);
    if (roi->w > 0 && roi->h > 0)
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

static void
gst_facesr_attach_metas (GstFacesr * self, GstBuffer * buffer, const std::vector<facesr::FaceReport> & faces,
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
            "model", G_TYPE_STRING, self->model_name,
            "synthesized", G_TYPE_BOOLEAN, f.enhanced, NULL));
  }
}

/* An element message shaped like gst-plugins-bad facedetect's; posted for frames with faces, and
 * once with an empty list when the faces are gone. */
static void
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
      "synthesized", G_TYPE_BOOLEAN, !faces.empty (),
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
            "synthesized", G_TYPE_BOOLEAN, f.enhanced, NULL);
    gst_value_set_structure (&item, face);
    gst_structure_free (face);
    gst_value_list_append_and_take_value (&list, &item);
  }
  gst_structure_take_value (s, "faces", &list);
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
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
  try {
    const std::vector<facesr::Detection> given =
        self->use_upstream ? upstream_faces (in) : std::vector<facesr::Detection> ();
    faces = self->enhancer->process (source, target, (int) o.scale, given, o.settings);
  } catch (const std::exception & e) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Face enhancement failed: %s", e.what ()), (NULL));
    return GST_FLOW_ERROR;
  }
  for (auto & f : faces)
    f.box.x += target.origin_x;
  gst_facesr_attach_metas (self, out, faces, out_width, out_height);
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
  const GParamFlags rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const GParamFlags rw_live = (GParamFlags) (rw | GST_PARAM_MUTABLE_PLAYING);
  const GParamFlags rw_ready = (GParamFlags) (rw | GST_PARAM_MUTABLE_READY);

  GST_DEBUG_CATEGORY_INIT (gst_facesr_debug, "facesr", 0, "facesr face super-resolution");

  gobject_class->set_property = gst_facesr_set_property;
  gobject_class->get_property = gst_facesr_get_property;
  gobject_class->finalize = gst_facesr_finalize;

  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "facesr weights file (.safetensors, made by facesr-train). Loaded when the element starts "
          "(READY to PAUSED); a missing or corrupt file makes that state change fail",
          DEFAULT_MODEL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_enum ("device", "Device",
          "Where the network runs: auto (a CUDA GPU when there is one, else the CPU), cpu, or cuda "
          "(the element fails to start without CUDA)",
          GST_TYPE_FACESR_DEVICE, DEFAULT_DEVICE, rw_ready));
  g_object_class_install_property (gobject_class, PROP_PRECISION,
      g_param_spec_enum ("precision", "Precision",
          "Arithmetic of the network: auto (bf16 on CPUs with AVX-512 BF16, else fp32), fp32, bf16, "
          "or fp16 (CUDA only; the element fails to start with fp16 on the CPU)",
          GST_TYPE_FACESR_PRECISION, DEFAULT_PRECISION, rw_ready));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "CPU threads for the network (0 = all cores)", 0, 256, DEFAULT_THREADS, rw_ready));
  g_object_class_install_property (gobject_class, PROP_DETECTOR,
      g_param_spec_enum ("detector", "Detector",
          "How faces are found: hog (dlib), haar (OpenCV cascade, finds the smallest faces), or "
          "upstream (GstVideoRegionOfInterestMeta of type \"face\" on the incoming buffers)",
          GST_TYPE_FACESR_DETECTOR, DEFAULT_DETECTOR, rw_ready));
  g_object_class_install_property (gobject_class, PROP_DETECT_INTERVAL,
      g_param_spec_uint ("detect-interval", "Detect interval",
          "Run the detector on every Nth frame and let the tracker follow faces in between; 0 = "
          "auto (every frame with detector=upstream, every 5th frame with hog and haar)",
          0, 1000, DEFAULT_DETECT_INTERVAL, rw_live));
  g_object_class_install_property (gobject_class, PROP_MIN_FACE_SIZE,
      g_param_spec_uint ("min-face-size", "Minimum face size",
          "Smallest face enhanced, in input pixels (larger side of the face box); smaller faces "
          "are left alone", 1, 4096, DEFAULT_MIN_FACE_SIZE, rw_live));
  g_object_class_install_property (gobject_class, PROP_MAX_FACE_SIZE,
      g_param_spec_uint ("max-face-size", "Maximum face size",
          "Largest face enhanced, in input pixels (0 = no limit). The network sees each face as a "
          "32x32 crop of 1.5x the face, so faces much larger than the default already hold more "
          "real detail than the crop and are left alone", 0, 8192, DEFAULT_MAX_FACE_SIZE, rw_live));
  g_object_class_install_property (gobject_class, PROP_MAX_FACES,
      g_param_spec_uint ("max-faces", "Maximum faces",
          "Most faces enhanced per frame, the highest-scoring ones (0 = no limit); bounds the time "
          "a frame takes", 0, 256, DEFAULT_MAX_FACES, rw_live));
  g_object_class_install_property (gobject_class, PROP_OUTPUT_SCALE,
      g_param_spec_uint ("output-scale", "Output scale",
          "Output frame size as a multiple of the input: 1, 2, 4 or 8. Faces are pasted from the "
          "256x256 results, the rest of the frame is resized", 1, 8, DEFAULT_OUTPUT_SCALE, rw_live));
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "replace: enhanced faces replace the originals; inset: each is also shown enlarged beside "
          "it; side-by-side: original and enhanced frames next to each other (output twice as wide)",
          GST_TYPE_FACESR_MODE, DEFAULT_MODE, rw_live));
  g_object_class_install_property (gobject_class, PROP_TEMPORAL_SMOOTHING,
      g_param_spec_double ("temporal-smoothing", "Temporal smoothing",
          "Weight of a tracked face's previous result blended into its current one (0 = none); "
          "reduces flicker", 0.0, 1.0, DEFAULT_TEMPORAL_SMOOTHING, rw_live));
  g_object_class_install_property (gobject_class, PROP_NOISE,
      g_param_spec_double ("noise", "Noise",
          "Strength of the Gaussian noise added after each convolution (the paper's \"w/ N\"); 0 = "
          "deterministic results, higher = more varied, less faithful faces", 0.0, 10.0, DEFAULT_NOISE, rw_live));
  g_object_class_install_property (gobject_class, PROP_ANNOTATE,
      g_param_spec_boolean ("annotate", "Annotate",
          "Outline each enhanced face in green", DEFAULT_ANNOTATE, rw_live));
  g_object_class_install_property (gobject_class, PROP_ENABLED,
      g_param_spec_boolean ("enabled", "Enabled",
          "Enhance faces; when FALSE frames pass through untouched (only resized when output-scale "
          "or mode change the size)", DEFAULT_ENABLED, rw_live));

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

  gst_type_mark_as_plugin_api (GST_TYPE_FACESR_DEVICE, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_FACESR_PRECISION, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_FACESR_DETECTOR, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_FACESR_MODE, (GstPluginAPIFlags) 0);
}

static void
gst_facesr_init (GstFacesr * self)
{
  self->model = g_strdup (DEFAULT_MODEL);
  self->device = DEFAULT_DEVICE;
  self->precision = DEFAULT_PRECISION;
  self->threads = DEFAULT_THREADS;
  self->detector = DEFAULT_DETECTOR;
  self->detect_interval = DEFAULT_DETECT_INTERVAL;
  self->min_face_size = DEFAULT_MIN_FACE_SIZE;
  self->max_face_size = DEFAULT_MAX_FACE_SIZE;
  self->max_faces = DEFAULT_MAX_FACES;
  self->output_scale = DEFAULT_OUTPUT_SCALE;
  self->mode = DEFAULT_MODE;
  self->temporal_smoothing = DEFAULT_TEMPORAL_SMOOTHING;
  self->noise = DEFAULT_NOISE;
  self->annotate = DEFAULT_ANNOTATE;
  self->enabled = DEFAULT_ENABLED;
  self->latency = 0;
  self->earliest_time = GST_CLOCK_TIME_NONE;
  self->qos_proportion = 1.0;
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), TRUE);
}
