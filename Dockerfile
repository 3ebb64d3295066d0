# One image for every role (web, worker, scheduler); docker-compose.yml picks the command.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git openssh-client haproxy python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm ci --omit=dev --ignore-scripts=false
COPY . .
ENV NODE_ENV=production
EXPOSE 3000
CMD ["npm", "run", "web"]
