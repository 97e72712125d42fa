#include "sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ember::sandbox {

namespace {

std::string find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr && *path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

bool exists(const std::string& path) {
  struct stat info;
  return ::lstat(path.c_str(), &info) == 0;
}

// The bwrap command line that shows the child only what the confinement names.
std::vector<std::string> bwrap_argv(const std::string& bwrap, const Confinement& c,
                                    const std::vector<std::string>& argv) {
  std::vector<std::string> a = {bwrap, "--unshare-all", "--die-with-parent", "--new-session"};
  // The system: programs, libraries and the loader's cache, read-only. On merged-/usr systems
  // /bin, /lib, ... are symlinks into /usr and stay symlinks.
  a.insert(a.end(), {"--ro-bind", "/usr", "/usr"});
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    char target[PATH_MAX];
    const ssize_t n = ::readlink(top, target, sizeof target - 1);
    if (n > 0) {
      a.insert(a.end(), {"--symlink", std::string(target, static_cast<size_t>(n)), top});
    } else if (exists(top)) {
      a.insert(a.end(), {"--ro-bind", top, top});
    }
  }
  for (const char* file : {"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives"}) {
    if (exists(file)) a.insert(a.end(), {"--ro-bind", file, file});
  }
  a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev"});
  a.insert(a.end(), {"--size", std::to_string(c.tmp_bytes), "--tmpfs", "/tmp"});
  for (const std::string& path : c.read_only) {
    if (path.rfind("/usr/", 0) == 0) continue;  // already there, with the rest of /usr
    a.insert(a.end(), {"--ro-bind", path, path});
  }
  for (const std::string& path : c.writable) a.insert(a.end(), {"--bind", path, path});
  for (const std::string& path : c.devices) {
    if (exists(path)) a.insert(a.end(), {"--dev-bind", path, path});
  }
  a.insert(a.end(), {"--chdir", c.cwd, "--"});
  a.insert(a.end(), argv.begin(), argv.end());
  return a;
}

void set_limit(int resource, unsigned long long value) {
  if (value == 0) return;
  struct rlimit current;
  rlim_t limit = static_cast<rlim_t>(value);
  if (::getrlimit(resource, &current) == 0 && current.rlim_max != RLIM_INFINITY && current.rlim_max < limit) {
    limit = current.rlim_max;  // never ask for more than we have
  }
  struct rlimit wanted = {limit, limit};
  ::setrlimit(resource, &wanted);
}

[[noreturn]] void child_fail(int report_fd, int error) {
  [[maybe_unused]] const ssize_t ignored = ::write(report_fd, &error, sizeof error);
  ::_exit(127);
}

std::vector<pid_t> children_of_self() {
  std::vector<pid_t> pids;
  // Every process whose parent is us: the fourth field of /proc/PID/stat (after the name in
  // parentheses, which may itself hold spaces and parentheses).
  const pid_t self = ::getpid();
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return pids;
  while (const dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + entry->d_name + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 1));
    std::string state;
    long parent = 0;
    if (fields >> state >> parent && parent == self) pids.push_back(static_cast<pid_t>(std::atol(entry->d_name)));
  }
  ::closedir(proc);
  return pids;
}

}  // namespace

const char* level_name(Level level) { return level == Level::Sandbox ? "sandbox" : "limits"; }

std::optional<StudentUser> student_user_if_root() {
  if (::geteuid() != 0) return std::nullopt;
  StudentUser user;
  // A bare number: a user without an account, one per concurrent grading job.
  if (const char* uid = std::getenv("EMBER_STUDENT_UID"); uid != nullptr && *uid != '\0') {
    const long number = std::strtol(uid, nullptr, 10);
    if (number > 0 && number < 4000000) {
      user.uid = static_cast<uid_t>(number);
      user.gid = static_cast<gid_t>(number);
      user.name = "uid " + std::to_string(number);
      return user;
    }
  }
  const char* wanted = std::getenv("EMBER_STUDENT_USER");
  const std::string name = wanted != nullptr && *wanted ? wanted : "nobody";
  if (const passwd* entry = ::getpwnam(name.c_str()); entry != nullptr && entry->pw_uid != 0) {
    user.uid = entry->pw_uid;
    user.gid = entry->pw_gid;
    user.name = name;
  }  // else: nobody's usual ids, 65534
  return user;
}

std::string describe(Level level, const std::optional<StudentUser>& user) {
  std::string text = level == Level::Sandbox
                         ? "sandbox (bubblewrap: no network, its own PID and mount namespaces, only the "
                           "files it needs, read-only, and a private /tmp)"
                         : "limits only (bubblewrap could not be used: no network or file isolation)";
  text += user ? ", as user " + user->name : ", as the grader's own user";
  text += ", with limits on memory, CPU time, file size, open files and processes";
  return text;
}

pid_t spawn(const Confinement& c, const std::vector<std::string>& argv, const ChildFds& fds,
            std::string* error) {
  std::vector<std::string> full = argv;
  if (c.level == Level::Sandbox) {
    const std::string bwrap = find_in_path("bwrap");
    if (bwrap.empty()) {
      if (error) *error = "bwrap is not installed";
      return -1;
    }
    full = bwrap_argv(bwrap, c, argv);
  }
  if (full.empty()) {
    if (error) *error = "no program to run";
    return -1;
  }
  // Everything the child needs is made before fork(): after it, only async-signal-safe calls.
  std::vector<char*> args, envp;
  for (std::string& s : full) args.push_back(s.data());
  args.push_back(nullptr);
  std::vector<std::string> env = c.env;
  for (std::string& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int report[2];
  if (null_fd < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    if (error) *error = std::string("cannot set up the child: ") + std::strerror(errno);
    if (null_fd >= 0) ::close(null_fd);
    return -1;
  }
  // Where each descriptor goes: first moved above every target, then into place.
  std::vector<std::pair<int, int>> moves = {{fds.in >= 0 ? fds.in : null_fd, 0},
                                            {fds.out >= 0 ? fds.out : null_fd, 1},
                                            {fds.err >= 0 ? fds.err : (fds.out >= 0 ? fds.out : null_fd), 2}};
  moves.insert(moves.end(), fds.extra.begin(), fds.extra.end());
  int highest_target = 2;
  for (const auto& move : moves) highest_target = std::max(highest_target, move.second);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    if (error) *error = std::string("cannot fork: ") + std::strerror(errno);
    ::close(null_fd);
    ::close(report[0]);
    ::close(report[1]);
    return -1;
  }
  if (pid == 0) {
    ::setsid();  // its own session and process group: no terminal, killable as a group
    int temp[16];
    if (moves.size() > 16) child_fail(report[1], EMFILE);
    const size_t count = moves.size();
    for (size_t i = 0; i < count; ++i) {
      temp[i] = ::fcntl(moves[i].first, F_DUPFD_CLOEXEC, 64);
      if (temp[i] < 0) child_fail(report[1], errno);
    }
    for (size_t i = 0; i < count; ++i) {
      if (::dup2(temp[i], moves[i].second) < 0) child_fail(report[1], errno);
    }
    // Nothing else of ours leaks in (our stderr, the results, the other end of the channel):
    // every descriptor above the targets closes at exec, however high the limit goes.
    if (::syscall(SYS_close_range, static_cast<unsigned>(highest_target + 1), ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) != 0) {
      for (int fd = highest_target + 1; fd < 65536; ++fd) {
        if (fd != report[1]) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      }
    }
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    set_limit(RLIMIT_AS, c.limits.address_space_bytes);
    set_limit(RLIMIT_CPU, c.limits.cpu_seconds);
    set_limit(RLIMIT_FSIZE, c.limits.file_bytes);
    set_limit(RLIMIT_NOFILE, c.limits.open_files);
    set_limit(RLIMIT_NPROC, c.limits.processes);
    struct rlimit no_core = {0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    if (c.user) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(c.user->gid) != 0 || ::setuid(c.user->uid) != 0) {
        child_fail(report[1], errno);
      }
      if (::setuid(0) == 0) child_fail(report[1], EPERM);  // the drop must be for good
    }
    // After the user change, which clears it: die with the process that started us (and if it
    // is already gone, now).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (c.level == Level::Limits && ::chdir(c.cwd.c_str()) != 0) child_fail(report[1], errno);
    ::execve(args[0], args.data(), envp.data());
    child_fail(report[1], errno);
  }
  ::close(null_fd);
  ::close(report[1]);
  int child_error = 0;
  ssize_t got;
  do {
    got = ::read(report[0], &child_error, sizeof child_error);
  } while (got < 0 && errno == EINTR);
  ::close(report[0]);
  if (got == static_cast<ssize_t>(sizeof child_error)) {
    kill_and_reap(pid);
    if (error) *error = "cannot start " + full[0] + ": " + std::strerror(child_error);
    return -1;
  }
  return pid;
}

int kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

Level detect_level(const std::optional<StudentUser>& user, std::string* why_not) {
  if (const char* forced = std::getenv("EMBER_SANDBOX"); forced != nullptr && std::string(forced) == "limits") {
    if (why_not) *why_not = "EMBER_SANDBOX=limits";
    return Level::Limits;
  }
  Confinement trial;
  trial.level = Level::Sandbox;
  trial.user = user;
  trial.env = {"PATH=/usr/bin:/bin"};
  std::string error;
  const pid_t pid = spawn(trial, {"/usr/bin/true"}, {}, &error);
  if (pid < 0) {
    if (why_not) *why_not = error;
    return Level::Limits;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Level::Sandbox;
  if (why_not) *why_not = "a trial run of bwrap failed (the kernel may not allow user namespaces)";
  return Level::Limits;
}

unsigned long long processes_of_this_user() {
  unsigned long long count = 0;
  const uid_t self = ::getuid();
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  while (const dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    const std::string task_dir = std::string("/proc/") + entry->d_name + "/task";
    struct stat info;
    if (::stat((std::string("/proc/") + entry->d_name).c_str(), &info) != 0 || info.st_uid != self) continue;
    // RLIMIT_NPROC counts threads too.
    if (DIR* tasks = ::opendir(task_dir.c_str())) {
      while (const dirent* task = ::readdir(tasks)) count += task->d_name[0] != '.';
      ::closedir(tasks);
    }
  }
  ::closedir(proc);
  return count;
}

void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }

int kill_all_children() {
  int killed = 0;
  for (int round = 0; round < 1000; ++round) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    const std::vector<pid_t> children = children_of_self();
    if (children.empty()) break;
    for (pid_t pid : children) {
      ::kill(pid, SIGKILL);
      ++killed;
    }
    for (pid_t pid : children) {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  return killed;
}

}  // namespace ember::sandbox
