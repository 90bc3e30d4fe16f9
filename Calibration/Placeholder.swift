// Filled by the calibration issue.
