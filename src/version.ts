/**
 * The package version (kept equal to package.json by a test).
 *
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"
