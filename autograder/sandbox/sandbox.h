// Confinement for the student's side of a question: compiling their files and running the
// runner built from them. Used by the driver (the compile step) and by each checker (the
// runner). docs/security.md explains what each protection is for.
//
// Two levels, chosen once per grading run by detect_level():
//   sandbox  bubblewrap (Debian's bwrap): new PID, network, IPC, UTS and mount namespaces,
//            so the process sees no network, no other process, and only the folders named
//            here (read-only unless marked writable), a private /tmp of bounded size, and
//            dies with everything it started; plus the limits below.
//   limits   where bwrap is missing or the kernel refuses it: the limits below, its own
//            session and process group, killed with its parent; the files its user may read
//            are readable to it (docs/security.md says what that leaves open).
// At both levels, when the grader runs as root the student's code runs as an unprivileged
// user (nobody, or EMBER_STUDENT_USER), and resource limits (setrlimit) bound memory, CPU
// time, file size, open files and processes.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ember::sandbox {

enum class Level { Sandbox, Limits };

struct Limits {
  unsigned long long address_space_bytes = 0;  // RLIMIT_AS; 0: none (sanitizer builds need none)
  unsigned long long cpu_seconds = 0;          // RLIMIT_CPU
  unsigned long long file_bytes = 0;           // RLIMIT_FSIZE
  unsigned long long open_files = 256;         // RLIMIT_NOFILE
  unsigned long long processes = 0;            // RLIMIT_NPROC; 0: leave as it is
};

struct StudentUser {
  uid_t uid = 65534;
  gid_t gid = 65534;
  std::string name = "nobody";
};

struct Confinement {
  Level level = Level::Limits;
  std::optional<StudentUser> user;          // drop to this user first (set when we are root)
  Limits limits;
  std::vector<std::string> read_only;       // sandbox: folders and files visible, read-only
  std::vector<std::string> writable;        // sandbox: folders visible and writable
  std::vector<std::string> devices;         // sandbox: device nodes passed through (GPUs)
  unsigned long long tmp_bytes = 256ULL << 20;  // sandbox: the size of the private /tmp
  std::vector<std::string> env;             // the whole environment, "NAME=value"
  std::string cwd = "/tmp";                 // where it starts (must be visible)
};

// Which descriptors the child gets: stdin, stdout, stderr, and (parent fd, child fd) pairs.
struct ChildFds {
  int in = -1;   // -1: /dev/null
  int out = -1;  // -1: /dev/null
  int err = -1;  // -1: same as out
  std::vector<std::pair<int, int>> extra;
};

// The level this machine allows: Sandbox when a trial bwrap run (as the student user when
// we are root) succeeds, else Limits. why_not says what failed. Costs one short bwrap run.
Level detect_level(const std::optional<StudentUser>& user, std::string* why_not = nullptr);

// The student user when we run as root: EMBER_STUDENT_USER (a user name) or nobody;
// nullopt when we are not root.
std::optional<StudentUser> student_user_if_root();

// A short description for reports, e.g. "sandbox (bubblewrap: no network, own PID and mount
// namespaces, read-only files), as user nobody, with limits on memory, CPU, files, processes".
std::string describe(Level level, const std::optional<StudentUser>& user);
const char* level_name(Level level);  // "sandbox" or "limits"

// Starts argv under the confinement. Returns the pid to wait for and kill (bwrap's, at the
// sandbox level), or -1 with error set. The child starts in a new session.
pid_t spawn(const Confinement& confinement, const std::vector<std::string>& argv, const ChildFds& fds,
            std::string* error);

// Kills pid (SIGKILL, with its process group) and reaps it; returns its wait status.
int kill_and_reap(pid_t pid);

// How many processes and threads this user has now (what RLIMIT_NPROC counts).
unsigned long long processes_of_this_user();

// Makes this process the reaper of every orphan below it (PR_SET_CHILD_SUBREAPER), so that a
// student process that double-forks and calls setsid still ends up as our child.
void become_subreaper();

// Kills and reaps every child this process still has, including orphans it adopted as a
// subreaper, until none is left. Returns how many it killed.
int kill_all_children();

}  // namespace ember::sandbox
