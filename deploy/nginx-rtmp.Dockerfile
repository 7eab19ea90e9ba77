# The media server of the compose stack: Debian's nginx with libnginx-mod-rtmp, configured
# from deploy/nginx-rtmp.conf at start (envsubst fills only the template's own names).
FROM debian:bookworm-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx libnginx-mod-rtmp gettext-base \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/veza-rtmp

COPY deploy/nginx-rtmp.conf /etc/nginx/veza-rtmp.conf.template

ENV NGINX_PREFIX=/var/lib/veza-rtmp \
    RTMP_LISTEN=1935 \
    RTMP_PORT=1935 \
    HTTP_LISTEN=8088 \
    HLS_DIR=/var/lib/veza-rtmp/hls \
    UPDATE_INTERVAL=10

EXPOSE 1935 8088
CMD ["sh", "-c", "envsubst '${NGINX_PREFIX} ${RTMP_LISTEN} ${RTMP_PORT} ${HTTP_LISTEN} ${HLS_DIR} ${VEZA_HOOK_URL} ${LIVE_HOOK_SECRET} ${UPDATE_INTERVAL}' < /etc/nginx/veza-rtmp.conf.template > /etc/nginx/veza-rtmp.conf && exec nginx -c /etc/nginx/veza-rtmp.conf"]
