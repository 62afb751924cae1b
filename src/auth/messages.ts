/**
 * Client-facing error texts, worded exactly as Open WebUI's `ERROR_MESSAGES`, so its
 * frontend shows the same thing whichever server answered.
 */
export const MESSAGES = {
  CREATE_USER_ERROR: "Oops! Something went wrong while creating your account. Please try again later. If the issue persists, contact support for assistance.",
  EMAIL_TAKEN: "Uh-oh! This email is already registered. Sign in with your existing account or choose another email to start anew.",
  PASSWORD_TOO_LONG: "Uh-oh! The password you entered is too long. Please make sure your password is less than 72 bytes long.",
  INVALID_TOKEN: "Your session has expired or the token is invalid. Please sign in again.",
  INVALID_CRED: "The email or password provided is incorrect. Please check for typos and try logging in again.",
  INVALID_EMAIL_FORMAT: "The email format you entered is invalid. Please double-check and make sure you're using a valid email address (e.g., yourname@example.com).",
  INVALID_PASSWORD: "The password provided is incorrect. Please check for typos and try again.",
  INVALID_TRUSTED_HEADER: "Your provider has not provided a trusted header. Please contact your administrator for assistance.",
  UNAUTHORIZED: "401 Unauthorized",
  NOT_AUTHENTICATED: "Not authenticated",
  ACCESS_PROHIBITED: "You do not have permission to access this resource. Please contact your administrator for assistance.",
  ACTION_PROHIBITED: "The requested action has been restricted as a security measure.",
  NOT_FOUND: "We could not find what you're looking for :/",
  USER_NOT_FOUND: "We could not find what you're looking for :/",
  API_KEY_NOT_FOUND: "Oops! It looks like there's a hiccup. The API key is missing. Please make sure to provide a valid API key to access this feature.",
  API_KEY_NOT_ALLOWED: "Use of API key is not enabled in the environment.",
  CREATE_API_KEY_ERROR: "Oops! Something went wrong while creating your API key. Please try again later. If the issue persists, contact support for assistance.",
  RATE_LIMIT_EXCEEDED: "API rate limit exceeded",
  USER_MISMATCH: "User mismatch. Please sign in again.",
  EMPTY_PASSWORD: "The password provided is empty. Please enter a password.",
} as const;
