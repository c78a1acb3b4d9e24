/* What the facesr element's source files share (not installed): the instance struct, the property
 * defaults, and the functions gstfacesr.cpp calls in gstfacesr-properties.cpp (properties and their
 * enum types) and gstfacesr-report.cpp (ROI metas and bus messages in and out). */
#ifndef __GST_FACESR_PRIVATE_H__
#define __GST_FACESR_PRIVATE_H__

#include <vector>

#include "face_enhancer.h"
#include "gstfacesr.h"

GST_DEBUG_CATEGORY_EXTERN (gst_facesr_debug);

#ifndef FACESR_DEFAULT_MODEL
#define FACESR_DEFAULT_MODEL "/usr/local/share/facesr/facesr-default.safetensors"
#endif

#define DEFAULT_MODEL FACESR_DEFAULT_MODEL
#define DEFAULT_COMPANION_MODELS TRUE
#define DEFAULT_DEVICE GST_FACESR_DEVICE_AUTO
#define DEFAULT_PRECISION GST_FACESR_PRECISION_AUTO
#define DEFAULT_THREADS 0
#define DEFAULT_DETECTOR GST_FACESR_DETECTOR_AUTO
#define DEFAULT_DETECT_INTERVAL 0
#define DEFAULT_MIN_FACE_SIZE 16
/* -1: auto, the largest face the largest loaded model's input holds without shrinking (FaceEnhancer). */
#define DEFAULT_MAX_FACE_SIZE -1
#define DEFAULT_MAX_FACES 8
#define DEFAULT_OUTPUT_SCALE GST_FACESR_OUTPUT_SCALE_1
#define DEFAULT_MODE GST_FACESR_MODE_REPLACE
#define DEFAULT_TEMPORAL_SMOOTHING 0.5
#define DEFAULT_NOISE 0.0
#define DEFAULT_ANNOTATE FALSE
#define DEFAULT_FLIP_ENSEMBLE FALSE
#define DEFAULT_ENABLED TRUE

/* detect-interval 0 ("auto") means this with the detectors, and 1 with upstream. */
#define AUTO_DETECT_INTERVAL 5

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_COMPANION_MODELS,
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
  PROP_FLIP_ENSEMBLE,
  PROP_ENABLED,
};

struct _GstFacesr
{
  GstVideoFilter parent;

  /* Properties; under the object lock. */
  gchar *model;
  gboolean companion_models;
  GstFacesrDevice device;
  GstFacesrPrecision precision;
  gint threads;
  GstFacesrDetector detector;
  guint detect_interval;
  guint min_face_size;
  gint max_face_size;           /* -1 auto, 0 no limit */
  guint max_faces;
  guint output_scale;
  GstFacesrMode mode;
  gdouble temporal_smoothing;
  gdouble noise;
  gboolean annotate;
  gboolean flip_ensemble;
  gboolean enabled;

  /* Streaming state: created in start(), dropped in stop(). */
  facesr::FaceEnhancer *enhancer;
  gchar *model_name;
  gboolean use_upstream;        /* detector=upstream */
  /* The geometry the current caps were negotiated with (set_info): frames are drawn by it, never by
   * output-scale and mode as they are now, which may already hold the values of the next
   * negotiation (a change while PLAYING reconfigures the src pad). Under the object lock. */
  guint negotiated_scale;
  gboolean negotiated_side_by_side;
  gboolean had_faces;           /* the last message listed faces */
  guint64 processed;            /* frames enhanced */
  guint64 passed_late;          /* late frames passed through un-enhanced */

  /* Under the object lock. */
  GstClockTime latency;         /* what the element adds (LATENCY query) */
  GstClockTime earliest_time;   /* from QoS events; GST_CLOCK_TIME_NONE: none */
  gdouble qos_proportion;
};

/* gstfacesr-properties.cpp */
/* gstfacesr-caps.cpp: the GstBaseTransform / GstVideoFilter caps vfuncs. */
GstCaps *gst_facesr_transform_caps (GstBaseTransform * trans, GstPadDirection direction, GstCaps * caps,
    GstCaps * filter);
gboolean gst_facesr_set_info (GstVideoFilter * filter, GstCaps * incaps, GstVideoInfo * in_info,
    GstCaps * outcaps, GstVideoInfo * out_info);

void gst_facesr_install_properties (GObjectClass * gobject_class);  /* also sets set/get_property */
void gst_facesr_init_properties (GstFacesr * self);                 /* the defaults */

/* gstfacesr-report.cpp */
std::vector<facesr::Detection> gst_facesr_upstream_faces (GstBuffer * buffer, gint frame_width,
    gint frame_height);
void gst_facesr_attach_metas (GstBuffer * buffer,
    const std::vector<facesr::FaceReport> & faces, gint frame_width, gint frame_height);
void gst_facesr_post_message (GstFacesr * self, GstBuffer * buffer,
    const std::vector<facesr::FaceReport> & faces, gint frame_width, gint frame_height);

#endif /* __GST_FACESR_PRIVATE_H__ */
