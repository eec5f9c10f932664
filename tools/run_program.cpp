#include "run_program.h"

#include <stdexcept>

#ifndef _WIN32
#  include <cerrno>
#  include <cstring>
#  include <fcntl.h>
#  include <spawn.h>
#  include <sys/wait.h>
#  include <unistd.h>

extern char** environ;
#endif

namespace nam_tools {

#ifdef _WIN32

std::string run_program(const std::string& program, const std::vector<std::string>&) {
  throw std::runtime_error("cannot run " + program + ": running programs is not supported on this platform");
}

#else

namespace {

std::string system_error(const std::string& what, const int error) {
  return what + ": " + std::strerror(error);
}

/// Closes a file descriptor when it goes, so every early exit releases the pipe.
class FileDescriptor {
public:
  explicit FileDescriptor(const int fd) : _fd(fd) {}
  ~FileDescriptor() { close(); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return _fd; }
  void close() {
    if (_fd >= 0)
      ::close(_fd);
    _fd = -1;
  }

private:
  int _fd;
};

/// Starts the program with its stdout on `stdout_fd`, stdin and stderr on /dev/null; returns its id.
pid_t spawn(const std::string& program, const std::vector<std::string>& arguments, const int stdout_fd,
            const int unused_fd) {
  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (const std::string& argument : arguments)
    argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&actions, stdout_fd);
  posix_spawn_file_actions_addclose(&actions, unused_fd);
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0)
    throw std::runtime_error(system_error("cannot run " + program, error));
  return pid;
}

} // namespace

std::string run_program(const std::string& program, const std::vector<std::string>& arguments) {
  int ends[2];
  if (pipe(ends) != 0)
    throw std::runtime_error(system_error("cannot run " + program + ": no pipe", errno));
  FileDescriptor read_end(ends[0]);
  FileDescriptor write_end(ends[1]);
  const pid_t pid = spawn(program, arguments, write_end.get(), read_end.get());
  write_end.close(); // so the read below ends when the program closes its stdout

  std::string output;
  char chunk[4096];
  for (;;) {
    const ssize_t count = read(read_end.get(), chunk, sizeof(chunk));
    if (count > 0)
      output.append(chunk, static_cast<std::size_t>(count));
    else if (count == 0 || errno != EINTR)
      break;
  }

  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      throw std::runtime_error(system_error("cannot wait for " + program, errno));
  if (WIFSIGNALED(status))
    throw std::runtime_error(program + " was killed by signal " + std::to_string(WTERMSIG(status)));
  if (WEXITSTATUS(status) != 0)
    throw std::runtime_error(program + " exited with status " + std::to_string(WEXITSTATUS(status)));
  return output;
}

#endif

} // namespace nam_tools
