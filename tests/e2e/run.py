"""Run the end-to-end suites (test_*.py here) and print 'N passed, N failed'."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Counting(unittest.TextTestResult):
    pass


def main():
    loader = unittest.TestLoader()
    pattern = sys.argv[1] if len(sys.argv) > 1 else "test_*.py"
    suite = loader.discover(HERE, pattern=pattern, top_level_dir=HERE)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=Counting, stream=sys.stdout)
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    passed = res.testsRun - failed - len(res.skipped)
    print(f"e2e: {passed} passed, {failed} failed, {len(res.skipped)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
