// Deliberately does not compile: the driver tests use it as a student's broken q4.
// (Not part of any CMake target; fake_build.sh hands it to the compiler.)
struct LanguageIdModel {
  int run(int x) { return x * undeclared_weight; }
};
