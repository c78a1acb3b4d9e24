// Runs a command-line tool of this project from a test and captures what it printed.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace facesr::test_tools {

struct ToolRun {
  int status = -1;  // exit status; -1 when the tool did not exit normally
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `binary args` through the shell (paths without spaces or quotes), stdout and stderr kept in `dir`.
inline ToolRun run_tool(const std::string& binary, const std::string& args, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const std::string command = binary + " " + args + " > " + (dir / "out").string() + " 2> " + (dir / "err").string();
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(dir / "out"), slurp(dir / "err")};
}

}  // namespace facesr::test_tools
