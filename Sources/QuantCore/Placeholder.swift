// Filled by a later issue (see README).
