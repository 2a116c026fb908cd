/**
 * Bodies of the Open Messaging inbound API (middleware → Genesys), from research/genesys.md §3.
 * Field names are Genesys's own.
 */
export type IdType = 'Email' | 'Phone' | 'Opaque';

export interface OpenMessagingFrom {
  id: string;
  idType: IdType;
  nickname?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  image?: string;
}

export interface ChannelMetadata {
  customAttributes?: Record<string, string>;
}

export interface InboundAttachmentContent {
  contentType: 'Attachment';
  attachment: {
    mediaType: 'Image' | 'Video' | 'Audio' | 'File' | 'Link';
    url: string;
    mime: string;
    filename?: string;
    id?: string;
    text?: string;
    sha256?: string;
  };
}

/** `POST /api/v2/conversations/messages/{integrationId}/inbound/open/message` */
export interface InboundMessageBody {
  channel: {
    messageId?: string;
    from: OpenMessagingFrom;
    time: string;
    metadata?: ChannelMetadata;
  };
  text?: string;
  content?: InboundAttachmentContent[];
  metadata?: Record<string, string>;
}

/** `…/inbound/open/receipt`: the status of an outbound (agent) message. */
export interface InboundReceiptBody {
  /** The Genesys id of the outbound message this receipt is about. */
  id: string;
  channel: { to: { id: string; idType?: IdType }; time: string };
  status: 'Delivered' | 'Failed';
  reasons?: Array<{ code?: string; message: string }>;
  isFinalReceipt?: boolean;
  direction?: 'Outbound';
}

/** `…/inbound/open/event`: customer typing. */
export interface InboundEventBody {
  channel: { from: OpenMessagingFrom; time: string };
  events: Array<{ eventType: 'Typing'; typing?: { type: 'On'; duration?: number } }>;
}

/** `…/inbound/open/structured/response`: a button or quick-reply press. */
export interface InboundStructuredResponseBody {
  channel: { from: OpenMessagingFrom; time: string; messageId?: string; metadata?: ChannelMetadata };
  buttonResponse: { type: 'Button' | 'QuickReply' | 'DatePicker'; text: string; payload: string };
  originatingMessageId: string;
}

export interface InboundMessageResponse {
  id: string;
  conversationId?: string;
  [key: string]: unknown;
}

export interface InboundReceiptResponse {
  id: string;
  status?: string;
  reasons?: Array<{ code?: string; message: string }>;
  [key: string]: unknown;
}

/** The Genesys Cloud client that core uses for everything it sends to Genesys. */
export interface GenesysClient {
  sendMessage(
    integrationId: string,
    body: InboundMessageBody,
    options?: { prefetchConversationId?: boolean },
  ): Promise<InboundMessageResponse>;
  sendReceipt(integrationId: string, body: InboundReceiptBody): Promise<InboundReceiptResponse>;
  sendEvent(integrationId: string, body: InboundEventBody): Promise<unknown>;
  sendStructuredResponse(
    integrationId: string,
    body: InboundStructuredResponseBody,
  ): Promise<InboundMessageResponse>;
  /** A valid bearer token (cached; refreshed before expiry). Used for readiness and downloads. */
  getToken(): Promise<string>;
  /** Whether the last token request succeeded (for `/readyz`), without network I/O. */
  tokenStatus(): { ok: boolean; expiresAt?: number; error?: string };
  close(): Promise<void>;
}
