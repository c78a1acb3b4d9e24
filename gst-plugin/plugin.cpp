/* The facesr plugin: one element, facesr (gstfacesr.cpp). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstfacesr.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  return GST_ELEMENT_REGISTER (facesr, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR,
    GST_VERSION_MINOR,
    facesr,
    "Face super-resolution and deblurring (8x, GAN) for video",
    plugin_init, VERSION, "MIT/X11", PACKAGE, GST_PACKAGE_ORIGIN)
