/* facesr: the GStreamer element that enhances faces in video (8x face super-resolution and
 * deblurring with a GAN generator, 32x32 -> 256x256). Plain C header: the processing lives in a
 * C++ class (face_enhancer.h) that the element keeps behind an opaque pointer. */
#ifndef __GST_FACESR_H__
#define __GST_FACESR_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

/* Where the network runs (property "device"). */
typedef enum {
  GST_FACESR_DEVICE_AUTO,
  GST_FACESR_DEVICE_CPU,
  GST_FACESR_DEVICE_CUDA,
} GstFacesrDevice;

/* Arithmetic of the network's layers (property "precision"). */
typedef enum {
  GST_FACESR_PRECISION_AUTO,
  GST_FACESR_PRECISION_FP32,
  GST_FACESR_PRECISION_BF16,
  GST_FACESR_PRECISION_FP16,
} GstFacesrPrecision;

/* Where faces come from (property "detector"). */
typedef enum {
  GST_FACESR_DETECTOR_HOG,
  GST_FACESR_DETECTOR_HAAR,
  GST_FACESR_DETECTOR_UPSTREAM,
  GST_FACESR_DETECTOR_BLAZEFACE,
  GST_FACESR_DETECTOR_AUTO,
} GstFacesrDetector;

/* How enhanced faces are shown (property "mode"). */
typedef enum {
  GST_FACESR_MODE_REPLACE,
  GST_FACESR_MODE_INSET,
  GST_FACESR_MODE_SIDE_BY_SIDE,
} GstFacesrMode;

/* Output frame size as a multiple of the input (property "output-scale"): the values are the factors. */
typedef enum {
  GST_FACESR_OUTPUT_SCALE_1 = 1,
  GST_FACESR_OUTPUT_SCALE_2 = 2,
  GST_FACESR_OUTPUT_SCALE_4 = 4,
  GST_FACESR_OUTPUT_SCALE_8 = 8,
} GstFacesrOutputScale;

#define GST_TYPE_FACESR_DEVICE (gst_facesr_device_get_type ())
#define GST_TYPE_FACESR_PRECISION (gst_facesr_precision_get_type ())
#define GST_TYPE_FACESR_DETECTOR (gst_facesr_detector_get_type ())
#define GST_TYPE_FACESR_MODE (gst_facesr_mode_get_type ())
#define GST_TYPE_FACESR_OUTPUT_SCALE (gst_facesr_output_scale_get_type ())
GType gst_facesr_device_get_type (void);
GType gst_facesr_precision_get_type (void);
GType gst_facesr_detector_get_type (void);
GType gst_facesr_mode_get_type (void);
GType gst_facesr_output_scale_get_type (void);

#define GST_TYPE_FACESR (gst_facesr_get_type ())
G_DECLARE_FINAL_TYPE (GstFacesr, gst_facesr, GST, FACESR, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (facesr);

G_END_DECLS

#endif /* __GST_FACESR_H__ */
