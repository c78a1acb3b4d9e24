// facesr-make-clip: render a surveillance-style clip from photos, for the demo and for trying the
// element on faces whose originals are known.
//
//   facesr-make-clip sample5.jpg sample6.jpg | gst-launch-1.0 fdsrc
//     ! rawvideoparse format=bgrx width=854 height=480 framerate=25/1
//     ! videoconvert ! x264enc ! mp4mux ! filesink location=clip.mp4          (one command line)
//
// Per photo, a virtual camera looks at the photo for --seconds: it pans across it (an eased sweep
// of --pan frame widths, alternating direction photo by photo, with a small seeded shake) while
// zooming in (or out, every other photo) by 1.5x. The scale is chosen so that the photo's median
// face is --face-width pixels wide (faces found with facesr's Haar cascade detector; --scale sets it
// by hand), so the faces come out CCTV-small. At such scales a photo covers only part of the frame:
// the rest is the photo's edges stretched outwards, heavily blurred and darkened (an out-of-focus
// surround with no faces in it). Each frame averages --subframes renders
// spread over the --exposure (motion blur along the camera's motion, zoom included) and gets mild
// Gaussian sensor noise. Output: raw BGRx frames (4 bytes a pixel, rows packed, no padding) to stdout
// or --output; a summary goes to stderr. The output depends only on the photos and the options.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "detector.h"
#include "image_io.h"

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kZoomRange = 1.5;       // each photo's zoom runs from scale/sqrt(1.5) to scale*sqrt(1.5)
constexpr double kSurroundSigma = 0.03;      // blur of the surround, in photo widths
constexpr double kSurroundDarkening = 0.45;  // the surround darkens by up to this, over half a photo width
constexpr double kShakePixels = 2.5;     // frame pixels, each axis
constexpr double kShakeHz = 0.7;

struct ClipOptions {
  int width = 854, height = 480;
  int fps = 25;
  double seconds = 4.0;      // per photo
  double face_width = 36.0;  // frame pixels: the median face at the middle zoom
  double scale = 0.0;        // frame pixels per photo pixel; 0 = from face_width
  double pan = 0.2;          // frame widths swept per photo (half to each side of the centre)
  double exposure = 1.0;     // shutter open time, in frame intervals (0 = no motion blur)
  int subframes = 8;
  double noise = 2.5;        // sensor noise sigma, 8-bit levels
  unsigned seed = 1;
};

// Where the camera is at time u in [0, 1] of a photo's segment: the photo's centre sits at
// (frame centre - offset) and is shown at `scale` frame pixels per photo pixel.
struct CameraPose {
  double offset_x = 0, offset_y = 0;  // frame pixels
  double scale = 0;
};

class CameraPath {
 public:
  CameraPath(const ClipOptions& o, double scale, int segment)
      : o_(o), scale_(scale), direction_(segment % 2 == 0 ? 1.0 : -1.0) {
    cv::RNG rng(o.seed * 7919u + static_cast<unsigned>(segment));
    phase_x_ = rng.uniform(0.0, 2 * kPi);
    phase_y_ = rng.uniform(0.0, 2 * kPi);
  }

  CameraPose at(double u) const {
    const double ease = (1 - std::cos(kPi * u)) / 2;            // 0 -> 1, slow at both ends
    const double t = u * o_.seconds;
    CameraPose p;
    p.offset_x = direction_ * o_.pan * o_.width * (ease - 0.5) +
                 kShakePixels * std::sin(2 * kPi * kShakeHz * t + phase_x_);
    p.offset_y = 0.04 * o_.height * std::sin(kPi * u) * direction_ +
                 kShakePixels * std::sin(2 * kPi * kShakeHz * 1.3 * t + phase_y_);
    const double zoom = std::pow(kZoomRange, direction_ * (ease - 0.5));
    p.scale = scale_ * zoom;
    return p;
  }

  double max_scale() const { return scale_ * std::sqrt(kZoomRange); }
  double min_scale() const { return scale_ / std::sqrt(kZoomRange); }

 private:
  ClipOptions o_;
  double scale_;
  double direction_;
  double phase_x_ = 0, phase_y_ = 0;
};

// The median face width of a photo in photo pixels (Haar cascade, faces >= 40 px), or 0 when none.
double median_face_width(const cv::Mat& photo) {
  facesr::DetectorOptions options;
  options.backend = facesr::DetectorBackend::Cascade;
  options.min_face_size = 40;
  options.detection_scale = std::min(1.0, 1280.0 / std::max(photo.cols, photo.rows));
  auto detector = facesr::Detector::create(options);
  const auto faces = detector->detect({photo.data, photo.cols, photo.rows, photo.step, facesr::PixelFormat::BGR8});
  std::vector<double> widths;
  for (const auto& f : faces) widths.push_back(f.box.width);
  if (widths.empty()) return 0;
  std::nth_element(widths.begin(), widths.begin() + widths.size() / 2, widths.end());
  return widths[widths.size() / 2];
}

// The photo at `canvas_scale` inside a margin wide enough for everything the camera sees: the photo
// sharp, around it its edge pixels stretched outwards, heavily blurred and darkened with distance (an
// out-of-focus surround with no faces in it), blended over a few pixels.
struct Canvas {
  cv::Mat image;             // BGR, 8-bit
  double scale = 0;          // canvas pixels per photo pixel
  cv::Point2d photo_centre;  // canvas pixels
};

Canvas make_canvas(const cv::Mat& photo, double canvas_scale, const ClipOptions& o, double min_scale) {
  Canvas c;
  c.scale = canvas_scale;
  cv::Mat small;
  cv::resize(photo, small, cv::Size(), canvas_scale, canvas_scale, cv::INTER_AREA);
  // Half the area the camera can see, in canvas pixels, at its widest and farthest off-centre.
  const double reach = canvas_scale / min_scale;
  const double half_w = (o.width / 2.0 + o.pan * o.width / 2 + kShakePixels) * reach;
  const double half_h = (o.height / 2.0 + 0.04 * o.height + kShakePixels) * reach;
  const int margin_x = std::max(0, static_cast<int>(std::ceil(half_w - small.cols / 2.0))) + 8;
  const int margin_y = std::max(0, static_cast<int>(std::ceil(half_h - small.rows / 2.0))) + 8;
  cv::Mat padded;
  cv::copyMakeBorder(small, padded, margin_y, margin_y, margin_x, margin_x, cv::BORDER_REPLICATE);
  const cv::Rect inside(margin_x, margin_y, small.cols, small.rows);

  const double sigma = std::max(2.0, kSurroundSigma * small.cols);
  cv::Mat surround;
  cv::GaussianBlur(padded, surround, cv::Size(), sigma);
  cv::Mat outside(padded.size(), CV_8U, cv::Scalar(255)), distance;  // distance to the photo, canvas px
  outside(inside).setTo(0);
  cv::distanceTransform(outside, distance, cv::DIST_L2, 3);
  cv::Mat gain = cv::max(1.0 - kSurroundDarkening * distance / (0.5 * small.cols), 1.0 - kSurroundDarkening);
  cv::Mat mask(padded.size(), CV_32F, cv::Scalar(0));
  mask(inside).setTo(1);
  cv::GaussianBlur(mask, mask, cv::Size(), std::max(1.0, sigma / 4));
  cv::Mat sharp_f, surround_f;
  padded.convertTo(sharp_f, CV_32FC3);
  surround.convertTo(surround_f, CV_32FC3);
  cv::Mat blended(padded.size(), CV_32FC3);
  for (int y = 0; y < blended.rows; ++y)
    for (int x = 0; x < blended.cols; ++x) {
      const float m = mask.at<float>(y, x), g = gain.at<float>(y, x);
      blended.at<cv::Vec3f>(y, x) = m * sharp_f.at<cv::Vec3f>(y, x) + (1 - m) * g * surround_f.at<cv::Vec3f>(y, x);
    }
  blended.convertTo(c.image, CV_8UC3);
  c.photo_centre = {margin_x + small.cols / 2.0, margin_y + small.rows / 2.0};
  return c;
}

// One frame: the average of `subframes` renders over the exposure, plus sensor noise.
cv::Mat render_frame(const Canvas& canvas, const CameraPath& path, double u_centre, double u_exposure,
                     const ClipOptions& o, cv::RNG& noise_rng) {
  const int n = u_exposure > 0 ? std::max(1, o.subframes) : 1;
  cv::Mat sum(o.height, o.width, CV_32FC3, cv::Scalar::all(0)), sub;
  for (int k = 0; k < n; ++k) {
    const double u = u_centre + u_exposure * ((k + 0.5) / n - 0.5);
    const CameraPose pose = path.at(u);
    // canvas -> frame: x_f = m * (x_c - centre_c) + W/2 - offset, with m frame pixels per canvas pixel.
    const double m = pose.scale / canvas.scale;
    const cv::Matx23d to_frame(m, 0, o.width / 2.0 - pose.offset_x - m * canvas.photo_centre.x,
                               0, m, o.height / 2.0 - pose.offset_y - m * canvas.photo_centre.y);
    cv::warpAffine(canvas.image, sub, to_frame, sum.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT_101);
    cv::accumulate(sub, sum);
  }
  sum *= 1.0 / n;
  if (o.noise > 0) {
    cv::Mat noise(sum.size(), CV_32FC3);
    noise_rng.fill(noise, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(o.noise));
    sum += noise;
  }
  cv::Mat frame;
  sum.convertTo(frame, CV_8UC3);
  return frame;
}

bool write_all(std::FILE* out, const cv::Mat& bgrx) {
  for (int y = 0; y < bgrx.rows; ++y)
    if (std::fwrite(bgrx.ptr(y), 1, bgrx.cols * bgrx.elemSize(), out) != bgrx.cols * bgrx.elemSize()) return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Render a surveillance-style clip (pan, zoom, motion blur, noise; small faces) from photos. "
               "Writes raw BGRx frames."};
  ClipOptions o;
  std::vector<std::string> photos;
  std::string output = "-";
  app.add_option("photos", photos, "photos (JPEG, PNG, ...), one segment of --seconds each, in order")
      ->required()->check(CLI::ExistingFile);
  app.add_option("-o,--output", output, "file for the raw BGRx frames; - = stdout (default)");
  app.add_option("--width", o.width, "frame width (default 854)")->check(CLI::Range(64, 7680));
  app.add_option("--height", o.height, "frame height (default 480)")->check(CLI::Range(64, 4320));
  app.add_option("--fps", o.fps, "frames per second (default 25)")->check(CLI::Range(1, 240));
  app.add_option("--seconds", o.seconds, "seconds per photo (default 4)")->check(CLI::Range(0.04, 3600.0));
  app.add_option("--face-width", o.face_width,
                 "median face width in frame pixels at the middle of the zoom (default 36; the zoom spans "
                 "1.5x, so faces come out about 24-48 px)")->check(CLI::Range(4.0, 1000.0));
  app.add_option("--scale", o.scale, "frame pixels per photo pixel at the middle of the zoom, instead of "
                                     "--face-width")->check(CLI::Range(0.001, 10.0));
  app.add_option("--pan", o.pan, "frame widths the camera sweeps per photo (default 0.2)")->check(CLI::Range(0.0, 4.0));
  app.add_option("--exposure", o.exposure, "shutter time in frame intervals; 0 = no motion blur (default 1)")
      ->check(CLI::Range(0.0, 4.0));
  app.add_option("--subframes", o.subframes, "renders averaged per frame for motion blur (default 8)")
      ->check(CLI::Range(1, 64));
  app.add_option("--noise", o.noise, "sensor noise sigma in 8-bit levels (default 2.5)")->check(CLI::Range(0.0, 64.0));
  app.add_option("--seed", o.seed, "seed of the camera shake and the noise (default 1)");
  CLI11_PARSE(app, argc, argv);

  std::FILE* out = stdout;
  if (output == "-") {
    if (isatty(STDOUT_FILENO)) {
      std::fprintf(stderr, "facesr-make-clip: stdout is a terminal: pipe the raw frames into gst-launch-1.0 "
                           "(see --help) or give --output FILE\n");
      return 2;
    }
  } else if ((out = std::fopen(output.c_str(), "wb")) == nullptr) {
    std::fprintf(stderr, "facesr-make-clip: cannot write %s: %s\n", output.c_str(), std::strerror(errno));
    return 1;
  }

  const int frames_per_photo = std::max(1, static_cast<int>(std::lround(o.seconds * o.fps)));
  int written = 0;
  try {
    for (std::size_t segment = 0; segment < photos.size(); ++segment) {
      const cv::Mat photo = facesr::read_image_bgr(photos[segment]);
      double scale = o.scale;
      const double median = median_face_width(photo);
      if (scale <= 0) {
        if (median <= 0) {
          scale = 0.2;
          std::fprintf(stderr, "facesr-make-clip: %s: no face found to size the clip by; scale %.2f\n",
                       photos[segment].c_str(), scale);
        } else {
          scale = o.face_width / median;
        }
      }
      const CameraPath path(o, scale, static_cast<int>(segment));
      const Canvas canvas = make_canvas(photo, path.max_scale(), o, path.min_scale());
      std::fprintf(stderr, "facesr-make-clip: %s (%dx%d, median face %.0f px): scale %.3f-%.3f, median face "
                   "%.0f-%.0f px, %d frames\n", photos[segment].c_str(), photo.cols, photo.rows, median,
                   path.min_scale(), path.max_scale(), median * path.min_scale(), median * path.max_scale(),
                   frames_per_photo);
      cv::RNG noise_rng(o.seed * 104729u + static_cast<unsigned>(segment));
      const double u_exposure = o.exposure / frames_per_photo;
      cv::Mat bgrx;
      for (int i = 0; i < frames_per_photo; ++i) {
        const double u_centre = frames_per_photo > 1 ? double(i) / (frames_per_photo - 1) : 0.5;
        const cv::Mat frame = render_frame(canvas, path, u_centre, u_exposure, o, noise_rng);
        cv::cvtColor(frame, bgrx, cv::COLOR_BGR2BGRA);
        if (!write_all(out, bgrx)) {
          std::fprintf(stderr, "facesr-make-clip: writing frame %d failed: %s\n", written, std::strerror(errno));
          return 1;
        }
        ++written;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-make-clip: %s\n", e.what());
    return 1;
  }
  if (std::fflush(out) != 0 || (out != stdout && std::fclose(out) != 0)) {
    std::fprintf(stderr, "facesr-make-clip: writing %s failed: %s\n", output.c_str(), std::strerror(errno));
    return 1;
  }
  std::fprintf(stderr, "facesr-make-clip: %d frames %dx%d BGRx at %d fps\n", written, o.width, o.height, o.fps);
  return 0;
}
