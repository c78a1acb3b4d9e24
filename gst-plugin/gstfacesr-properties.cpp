/* The facesr element's properties: their enum types, set/get (under the object lock, each change
 * logged), installation with documentation, and defaults. */
#include "gstfacesr-private.h"

#define GST_CAT_DEFAULT gst_facesr_debug

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
        "on a CPU with AVX-512 BF16 the faster of bf16 and fp32 as timed at start (within 0.05 dB of each other), else fp32", "auto"},
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
    {GST_FACESR_DETECTOR_BLAZEFACE,
        "MediaPipe BlazeFace CNN on tiles: finds faces from 12 px (its model: "
        "scripts/fetch-detector-models.sh)", "blazeface"},
    {GST_FACESR_DETECTOR_AUTO,
        "blazeface when its model is installed, else haar (with a warning)", "auto"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstFacesrDetector", values));
  return type;
}

GType
gst_facesr_output_scale_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_FACESR_OUTPUT_SCALE_1, "Output as large as the input", "1"},
    {GST_FACESR_OUTPUT_SCALE_2, "Output twice as wide and high", "2"},
    {GST_FACESR_OUTPUT_SCALE_4, "Output 4x as wide and high", "4"},
    {GST_FACESR_OUTPUT_SCALE_8, "Output 8x as wide and high", "8"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstFacesrOutputScale", values));
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

/* model, device, precision and detector are used from the next start: refused while the element
 * runs (GStreamer's usual warning), so that reading them back always says what is running. Called
 * with the object lock held (GST_STATE is under it). */
static gboolean
gst_facesr_refuse_while_running (GstFacesr * self, GParamSpec * pspec)
{
  if (GST_STATE (self) <= GST_STATE_READY && GST_STATE_PENDING (self) <= GST_STATE_READY)
    return FALSE;
  GST_WARNING_OBJECT (self, "property '%s' is changeable only in NULL or READY state; ignored "
      "(it takes effect when the element is restarted from READY)", pspec->name);
  return TRUE;
}

static void
gst_facesr_set_property (GObject * object, guint prop_id, const GValue * value, GParamSpec * pspec)
{
  GstFacesr *self = GST_FACESR (object);
  gboolean caps_change = FALSE, passthrough_change = FALSE, passthrough = FALSE;
  gchar *size_warning = NULL;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      if (gst_facesr_refuse_while_running (self, pspec))
        break;
      g_free (self->model);
      self->model = g_value_dup_string (value);
      GST_DEBUG_OBJECT (self, "model: %s (used from the next start)", GST_STR_NULL (self->model));
      break;
    case PROP_COMPANION_MODELS:
      if (gst_facesr_refuse_while_running (self, pspec))
        break;
      self->companion_models = g_value_get_boolean (value);
      GST_DEBUG_OBJECT (self, "companion-models: %d (used from the next start)", self->companion_models);
      break;
    case PROP_DEVICE:
      if (gst_facesr_refuse_while_running (self, pspec))
        break;
      self->device = (GstFacesrDevice) g_value_get_enum (value);
      GST_DEBUG_OBJECT (self, "device: %d (used from the next start)", self->device);
      break;
    case PROP_PRECISION:
      if (gst_facesr_refuse_while_running (self, pspec))
        break;
      self->precision = (GstFacesrPrecision) g_value_get_enum (value);
      GST_DEBUG_OBJECT (self, "precision: %d (used from the next start)", self->precision);
      break;
    case PROP_THREADS:
      if (gst_facesr_refuse_while_running (self, pspec))
        break;
      self->threads = g_value_get_int (value);
      GST_DEBUG_OBJECT (self, "threads: %d (used from the next start)", self->threads);
      break;
    case PROP_DETECTOR:
      if (gst_facesr_refuse_while_running (self, pspec))
        break;
      self->detector = (GstFacesrDetector) g_value_get_enum (value);
      GST_DEBUG_OBJECT (self, "detector: %d (used from the next start)", self->detector);
      break;
    case PROP_DETECT_INTERVAL:
      self->detect_interval = g_value_get_uint (value);
      GST_DEBUG_OBJECT (self, "detect-interval: %u", self->detect_interval);
      break;
    /* Each size is valid alone; a new one that crosses the other moves the other with it (the
     * latest change wins), with a warning, instead of an impossible pair that stops the stream. */
    case PROP_MIN_FACE_SIZE:
      self->min_face_size = g_value_get_uint (value);
      if (self->max_face_size > 0 && (guint) self->max_face_size < self->min_face_size) {
        size_warning = g_strdup_printf ("min-face-size %u is above max-face-size %d: max-face-size set "
            "to 0 (no upper limit); set it after min-face-size to keep one", self->min_face_size,
            self->max_face_size);
        self->max_face_size = 0;
      }
      GST_DEBUG_OBJECT (self, "min-face-size: %u", self->min_face_size);
      break;
    case PROP_MAX_FACE_SIZE:
      self->max_face_size = g_value_get_int (value);
      if (self->max_face_size > 0 && (guint) self->max_face_size < self->min_face_size) {
        size_warning = g_strdup_printf ("max-face-size %d is below min-face-size %u: min-face-size lowered "
            "to %d", self->max_face_size, self->min_face_size, self->max_face_size);
        self->min_face_size = (guint) self->max_face_size;
      }
      GST_DEBUG_OBJECT (self, "max-face-size: %d", self->max_face_size);
      break;
    case PROP_MAX_FACES:
      self->max_faces = g_value_get_uint (value);
      GST_DEBUG_OBJECT (self, "max-faces: %u", self->max_faces);
      break;
    case PROP_OUTPUT_SCALE:{
      /* An enum: GObject refuses any value but 1, 2, 4 and 8 before it gets here. */
      const guint scale = (guint) g_value_get_enum (value);
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
    case PROP_FLIP_ENSEMBLE:
      self->flip_ensemble = g_value_get_boolean (value);
      GST_DEBUG_OBJECT (self, "flip-ensemble: %d", self->flip_ensemble);
      break;
    case PROP_ENABLED:
      self->enabled = g_value_get_boolean (value);
      passthrough_change = TRUE;
      /* By the geometry in use: a frame of another size cannot pass through. */
      passthrough = !self->enabled && self->negotiated_scale == 1 && !self->negotiated_side_by_side;
      GST_DEBUG_OBJECT (self, "enabled: %d", self->enabled);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);

  if (size_warning) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("%s", size_warning), (NULL));
    g_free (size_warning);
  }
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
    case PROP_COMPANION_MODELS:
      g_value_set_boolean (value, self->companion_models);
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
      g_value_set_int (value, self->max_face_size);
      break;
    case PROP_MAX_FACES:
      g_value_set_uint (value, self->max_faces);
      break;
    case PROP_OUTPUT_SCALE:
      g_value_set_enum (value, (gint) self->output_scale);
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
    case PROP_FLIP_ENSEMBLE:
      g_value_set_boolean (value, self->flip_ensemble);
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

void
gst_facesr_install_properties (GObjectClass * gobject_class)
{
  const GParamFlags rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const GParamFlags rw_live = (GParamFlags) (rw | GST_PARAM_MUTABLE_PLAYING);
  const GParamFlags rw_ready = (GParamFlags) (rw | GST_PARAM_MUTABLE_READY);

  gobject_class->set_property = gst_facesr_set_property;
  gobject_class->get_property = gst_facesr_get_property;

  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "facesr weights file (.safetensors, made by facesr-train), or several separated by commas, one "
          "per scale (8x: 32x32 input, 4x: 64x64, 2x: 128x128); each face goes to the model with the "
          "smallest input that holds it without shrinking. A single file also brings the companion "
          "models its metadata names (the default brings its 4x and 2x models; see companion-models). "
          "Loaded when the element starts (READY to PAUSED); a missing or corrupt file makes that state "
          "change fail", DEFAULT_MODEL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_COMPANION_MODELS,
      g_param_spec_boolean ("companion-models", "Companion models",
          "With a single model file: also load the models for other scales that its metadata names, "
          "from the same folder (a missing one: a warning, and faces of its size are left alone). "
          "FALSE: only the file given", DEFAULT_COMPANION_MODELS, rw_ready));
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_enum ("device", "Device",
          "Where the network runs: auto (a CUDA GPU when there is one, else the CPU), cpu, or cuda "
          "(the element fails to start without CUDA)",
          GST_TYPE_FACESR_DEVICE, DEFAULT_DEVICE, rw_ready));
  g_object_class_install_property (gobject_class, PROP_PRECISION,
      g_param_spec_enum ("precision", "Precision",
          "Arithmetic of the network: auto (on CPUs with AVX-512 BF16 whichever of bf16 and fp32 ran faster "
          "when the element started, as its log says; else fp32), fp32, bf16, "
          "or fp16 (CUDA only; the element fails to start with fp16 on the CPU)",
          GST_TYPE_FACESR_PRECISION, DEFAULT_PRECISION, rw_ready));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "CPU threads for the network (0 = all cores)", 0, 256, DEFAULT_THREADS, rw_ready));
  g_object_class_install_property (gobject_class, PROP_DETECTOR,
      g_param_spec_enum ("detector", "Detector",
          "How faces are found: blazeface (CNN, faces from 12 px, best recall), haar (OpenCV cascade, "
          "faces from about 20 px), hog (dlib), upstream (GstVideoRegionOfInterestMeta of type "
          "\"face\" on the incoming buffers), or auto: blazeface when its model is there, else haar",
          GST_TYPE_FACESR_DETECTOR, DEFAULT_DETECTOR, rw_ready));
  g_object_class_install_property (gobject_class, PROP_DETECT_INTERVAL,
      g_param_spec_uint ("detect-interval", "Detect interval",
          "Run the detector on every Nth frame and let the tracker follow faces in between; 0 = "
          "auto (every frame with detector=upstream, every 5th frame with the detectors)",
          0, 1000, DEFAULT_DETECT_INTERVAL, rw_live));
  g_object_class_install_property (gobject_class, PROP_MIN_FACE_SIZE,
      g_param_spec_uint ("min-face-size", "Minimum face size",
          "Smallest face enhanced, in input pixels (larger side of the face box); smaller faces "
          "are left alone. Above 24 the haar detector looks at the frame scaled so that this size "
          "becomes 24 px (48: 1.5x faster). A value above a set max-face-size sets max-face-size to 0, "
          "no limit (with a warning)", 1, 4096, DEFAULT_MIN_FACE_SIZE, rw_live));
  g_object_class_install_property (gobject_class, PROP_MAX_FACE_SIZE,
      g_param_spec_int ("max-face-size", "Maximum face size",
          "Largest face enhanced, in input pixels (larger side of the face box); larger faces are "
          "left alone (reported with reason too-large). -1 = auto: the largest face whose crop the "
          "largest loaded model's input holds without shrinking it (its input side / its crop-rule side "
          "scale: about 100 px with the default's 2x companion, 25 px for the 8x model alone), as above "
          "that the network has less to work with than the face already shows and the face-size "
          "benchmark measured faces made worse; if "
          "min-face-size is above it, no limit. 0 = no limit. A value below min-face-size lowers "
          "min-face-size to it (with a warning)", -1, 8192, DEFAULT_MAX_FACE_SIZE, rw_live));
  g_object_class_install_property (gobject_class, PROP_MAX_FACES,
      g_param_spec_uint ("max-faces", "Maximum faces",
          "Most faces enhanced per frame, the highest-scoring ones (0 = no limit); bounds the time "
          "a frame takes", 0, 256, DEFAULT_MAX_FACES, rw_live));
  g_object_class_install_property (gobject_class, PROP_OUTPUT_SCALE,
      g_param_spec_enum ("output-scale", "Output scale",
          "Output frame size as a multiple of the input: 1, 2, 4 or 8 (no other value is accepted). Faces "
          "are pasted from the 256x256 results, the rest of the frame is resized",
          GST_TYPE_FACESR_OUTPUT_SCALE, DEFAULT_OUTPUT_SCALE, rw_live));
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "replace: enhanced faces replace the originals; inset: each is also shown enlarged beside "
          "it; side-by-side: original and enhanced frames next to each other (output twice as wide)",
          GST_TYPE_FACESR_MODE, DEFAULT_MODE, rw_live));
  g_object_class_install_property (gobject_class, PROP_TEMPORAL_SMOOTHING,
      g_param_spec_double ("temporal-smoothing", "Temporal smoothing",
          "Weight of a tracked face's previous result, moved to where the face now is, blended into "
          "its current one where the two agree (less where they differ, none beyond ~25 levels); "
          "0 = none. Steadier faces; higher values lag more when a face changes",
          0.0, 1.0, DEFAULT_TEMPORAL_SMOOTHING, rw_live));
  g_object_class_install_property (gobject_class, PROP_NOISE,
      g_param_spec_double ("noise", "Noise",
          "Strength of the Gaussian noise added after each convolution (the paper's \"w/ N\"); 0 = "
          "deterministic results, higher = more varied, less faithful faces", 0.0, 10.0, DEFAULT_NOISE, rw_live));
  g_object_class_install_property (gobject_class, PROP_ANNOTATE,
      g_param_spec_boolean ("annotate", "Annotate",
          "Outline each enhanced face in green", DEFAULT_ANNOTATE, rw_live));
  g_object_class_install_property (gobject_class, PROP_FLIP_ENSEMBLE,
      g_param_spec_boolean ("flip-ensemble", "Flip ensemble",
          "Also run each face mirrored and average the two results: twice the network's time for "
          "slightly closer faces (+0.06-0.11 dB on validation faces); for recorded footage, not live streams",
          DEFAULT_FLIP_ENSEMBLE, rw_live));
  g_object_class_install_property (gobject_class, PROP_ENABLED,
      g_param_spec_boolean ("enabled", "Enabled",
          "Enhance faces; when FALSE frames pass through untouched (only resized when output-scale "
          "or mode change the size)", DEFAULT_ENABLED, rw_live));

  gst_type_mark_as_plugin_api (GST_TYPE_FACESR_DEVICE, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_FACESR_PRECISION, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_FACESR_DETECTOR, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_FACESR_MODE, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_FACESR_OUTPUT_SCALE, (GstPluginAPIFlags) 0);
}

void
gst_facesr_init_properties (GstFacesr * self)
{
  self->model = g_strdup (DEFAULT_MODEL);
  self->companion_models = DEFAULT_COMPANION_MODELS;
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
  self->flip_ensemble = DEFAULT_FLIP_ENSEMBLE;
  self->enabled = DEFAULT_ENABLED;
}
