// Types for Switchboard delivery transforms. Point your editor at this file
// (for example with /// <reference path="types.d.ts" />) to get completion.
//
// A transform is a script that defines:
//
//   function transform(request: TransformRequest, event: TransformEvent): TransformRequest | null
//
// It runs after the integration's params/headers/body templates. Return the
// request to send (changed or not), or null to skip the delivery.

/** The HTTP request the delivery will send. */
interface TransformRequest {
  /** GET, POST, PUT or DELETE. GET and DELETE are sent without a body. */
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Absolute http(s) URL. Query parameters go in `params`. */
  url: string;
  /** Query parameters, added to the URL. Values must be strings (numbers and booleans are converted). */
  params: { [name: string]: string };
  /** Request headers. Values must be strings. The webhook-* signature headers are added after the transform. */
  headers: { [name: string]: string };
  /** The JSON body. Any JSON value; at most 1 MiB once encoded. */
  body: any;
}

/**
 * The event being delivered. Keys are the template variable names, so nested
 * names keep their dots: read them as event["contact.name"].
 */
interface TransformEvent {
  /** "MESSAGE" for a message, "END" when a chat ended. */
  event: "MESSAGE" | "END";
  /** The conversation's id in the sender's system (the app's conversationId). */
  conversationId: string;
  /** The chat's identifier; for SMS and WhatsApp chats, the contact's number. */
  chatId: string;
  /** The hub's id of the message. */
  messageId: string;
  /** The message text. */
  content: string;
  /** Same as content: the seed's name for it. */
  text: string;
  /** The end user: their phone number on SMS and WhatsApp, else their external id. */
  contact: string;
  "contact.name": string;
  "contact.email": string;
  "contact.externalId": string;
  "multimedia.url": string;
  "multimedia.caption": string;
  /** The hub-side sender (number or short code) of the chat, when there is one. */
  sender: string;
  /** "custom", "SMS", "WHATSAPP" or "webchat". */
  channel: string;
  /** When the message was sent, ISO-8601. */
  timestamp: string;
  integrationId: string;
}

/** console output is captured into the delivery attempt (at most 100 lines, 16 KiB). */
declare const console: {
  log(...values: any[]): void;
  info(...values: any[]): void;
  debug(...values: any[]): void;
  warn(...values: any[]): void;
  error(...values: any[]): void;
};

declare function transform(request: TransformRequest, event: TransformEvent): TransformRequest | null;
