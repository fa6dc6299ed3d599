/**
 * Browser notifications for mentions while the tab is hidden. Permission is asked on
 * first use (a user action: sending a message or pressing the bell), never at load.
 */

/** Longest notification body (the rest of a long message is cut). */
export const MAX_NOTIFICATION_BODY = 160

/** Whether this browser can notify at all. */
export const canNotify = (): boolean => typeof Notification !== "undefined"

/** Asks for permission if it was never asked; call from a user action. */
export const askNotificationPermission = async (): Promise<NotificationPermission | "unsupported"> => {
  if (!canNotify()) return "unsupported"
  if (Notification.permission !== "default") return Notification.permission
  return Notification.requestPermission()
}

/** Shows a notification when the tab is hidden and permission was granted; returns whether it did. */
export const notifyIfHidden = (title: string, body: string, tag: string): boolean => {
  if (!canNotify() || Notification.permission !== "granted" || document.visibilityState !== "hidden") return false
  new Notification(title, { body: body.length > MAX_NOTIFICATION_BODY ? `${body.slice(0, MAX_NOTIFICATION_BODY)}…` : body, tag })
  return true
}
